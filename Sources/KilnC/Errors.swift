// The C ABI's error plumbing: status codes, their strings and the thread-local last error.
import KilnCore

#if canImport(Glibc)
import Glibc
#endif

/// The thread-local message behind the last failed call; freed when replaced or at thread exit.
private let lastErrorKey: pthread_key_t = {
    var key = pthread_key_t()
    pthread_key_create(&key) { free($0) }
    return key
}()

private func setLastError(_ message: String) {
    free(pthread_getspecific(lastErrorKey))
    pthread_setspecific(lastErrorKey, strdup(message))
}

/// Runs one C entry point's body: maps a thrown `KilnError` (or any error) onto its status code
/// and records its message for `kiln_last_error`.
func withStatus(_ body: () throws -> Void) -> Int32 {
    do {
        try body()
        return 0
    } catch let error as KilnError {
        setLastError(error.message)
        return error.code.rawValue
    } catch {
        setLastError("\(error)")
        return KilnError.Code.internalError.rawValue
    }
}

/// Static C strings for the status codes: built once, never freed.
nonisolated(unsafe) private let statusStrings: [Int32: UnsafeMutablePointer<CChar>] = {
    var strings = [Int32(0): strdup("ok")!]
    for code in KilnError.Code.allCases { strings[code.rawValue] = strdup(code.name)! }
    return strings
}()
nonisolated(unsafe) private let unknownStatus = strdup("unknown status")!
nonisolated(unsafe) private let noError = strdup("")!

@_cdecl("kiln_status_string")
public func kiln_status_string(_ status: Int32) -> UnsafePointer<CChar> {
    UnsafePointer(statusStrings[status] ?? unknownStatus)
}

@_cdecl("kiln_last_error")
public func kiln_last_error() -> UnsafePointer<CChar> {
    guard let message = pthread_getspecific(lastErrorKey) else { return UnsafePointer(noError) }
    return UnsafePointer(message.assumingMemoryBound(to: CChar.self))
}

@_cdecl("kiln_free")
public func kiln_free(_ pointer: UnsafeMutableRawPointer?) {
    free(pointer)
}

/// Copies a Swift string into memory the caller releases with `kiln_free`.
func ownedCString(_ text: String) throws -> UnsafeMutablePointer<CChar> {
    guard let copy = strdup(text) else { throw KilnError(.outOfMemory, "cannot allocate \(text.utf8.count + 1) bytes") }
    return copy
}
