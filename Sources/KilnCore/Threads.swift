import CKilnSupport
import COpenBLAS
import Dispatch
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// How many threads Kiln computes with: its parallel regions, OpenBLAS calls included.
///
/// The default is `KILN_NUM_THREADS` from the environment, else the number of cores. There is
/// one pool (`WorkerPool`, behind `Parallel.forEach`): OpenBLAS itself runs single-threaded,
/// and `BLAS.sgemm` splits a large product over the pool, one OpenBLAS call per chunk. Two pools
/// on the same cores fight (OpenBLAS's threads spin for a while after every call, on the cores
/// Kiln's workers need next). Kernels never call `BLAS.sgemm` inside a parallel region: it
/// would find the pool busy and split onto `concurrentPerform`'s threads instead.
public enum Threads {
    private static let configured = Atomic<Int>(0)

    /// The number of cores the process may run on.
    public static var availableCores: Int { Int(ckiln_available_cores()) }

    /// The default before any `setCount`: `KILN_NUM_THREADS` if it is a positive integer, else cores.
    public static var defaultCount: Int {
        if let text = environment("KILN_NUM_THREADS"), let value = Int(text), value > 0 {
            return value
        }
        return availableCores
    }

    /// The thread count in force.
    public static var count: Int {
        let value = configured.load(ordering: .relaxed)
        if value > 0 { return value }
        let initial = defaultCount
        _ = singleThreadedOpenBLAS
        configured.store(initial, ordering: .relaxed)
        return initial
    }

    /// Sets the thread count; 0 restores the default.
    public static func setCount(_ newValue: Int) throws {
        guard newValue >= 0 && newValue <= 1024 else {
            throw KilnError.invalidArgument("thread count must be 0 (default) or 1...1024, got \(newValue)")
        }
        let value = newValue == 0 ? defaultCount : newValue
        _ = singleThreadedOpenBLAS
        configured.store(value, ordering: .relaxed)
    }

    private static let singleThreadedOpenBLAS: Void = ckiln_openblas_single_threaded()
}

/// Data-parallel loops over Kiln's thread budget.
public enum Parallel {
    /// Splits `0..<count` into at most `threads` contiguous chunks and runs `body` on each,
    /// concurrently (on `WorkerPool`'s threads and the caller's), returning when all are done.
    /// Runs inline when one chunk suffices.
    /// `minimumChunk` keeps tiny chunks from costing more in scheduling than they save.
    public static func forEach(
        _ count: Int, threads: Int = Threads.count, minimumChunk: Int = 1,
        _ body: (Range<Int>) -> Void
    ) {
        forEachChunk(count, threads: threads, minimumChunk: minimumChunk) { _, range in body(range) }
    }

    /// As `forEach`, also passing the chunk's index (below `threads`), so that each chunk can
    /// use its own slice of a scratch buffer allocated once.
    public static func forEachChunk(
        _ count: Int, threads: Int = Threads.count, minimumChunk: Int = 1,
        _ body: (_ chunk: Int, _ range: Range<Int>) -> Void
    ) {
        guard count > 0 else { return }
        let chunks = max(1, min(threads, count / max(minimumChunk, 1)))
        if chunks == 1 {
            body(0, 0..<count)
            return
        }
        @inline(__always) func run(_ chunk: Int) {
            body(chunk, (count * chunk / chunks)..<(count * (chunk + 1) / chunks))
        }
        if WorkerPool.shared.run(chunks: chunks, run) { return }
        // The pool is busy (a region started inside a chunk, or on another thread at once).
        withoutActuallyEscaping(run) { run in
            let shared = UncheckedSendable(run)
            DispatchQueue.concurrentPerform(iterations: chunks) { shared.value($0) }
        }
    }
}

/// Wraps a value that is only ever used in a way the compiler cannot prove safe (a closure run
/// on disjoint chunks by `Parallel.forEach`, a pointer into a buffer a plan owns).
public struct UncheckedSendable<Value>: @unchecked Sendable {
    public let value: Value
    public init(_ value: Value) { self.value = value }
}
