import NIOConcurrencyHelpers

/// Runs `work` with a time limit. When `seconds` pass first, the caller gets `timeout()`'s error
/// at once and the work's eventual result is dropped: a model run cannot be interrupted, but its
/// client no longer waits for it.
func withTimeLimit<T: Sendable>(_ seconds: Double, timeout: @escaping @Sendable () -> Error,
                                _ work: @escaping @Sendable () async throws -> T) async throws -> T {
    let pending = NIOLockedValueBox<CheckedContinuation<T, Error>?>(nil)
    @Sendable func take() -> CheckedContinuation<T, Error>? {
        pending.withLockedValue { continuation in
            defer { continuation = nil }
            return continuation
        }
    }
    return try await withCheckedThrowingContinuation { continuation in
        pending.withLockedValue { $0 = continuation }
        let timer = Task {
            try await Task.sleep(nanoseconds: UInt64(max(0, seconds) * 1e9))
            take()?.resume(throwing: timeout())
        }
        Task {
            let result: Result<T, Error>
            do { result = .success(try await work()) } catch { result = .failure(error) }
            timer.cancel()
            take()?.resume(with: result)
        }
    }
}
