#if canImport(Glibc)
import Glibc
#endif

/// Whole-file reads and writes with errors that name the path and the system's reason.
public enum FileIO {
    public static func read(_ path: String) throws -> [UInt8] {
        guard let file = fopen(path, "rb") else { throw systemError("cannot open", path) }
        defer { fclose(file) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let got = chunk.withUnsafeMutableBytes { fread($0.baseAddress, 1, $0.count, file) }
            bytes.append(contentsOf: chunk[0..<got])
            if got < chunk.count {
                if ferror(file) != 0 { throw systemError("cannot read", path) }
                return bytes
            }
        }
    }

    public static func write(_ bytes: [UInt8], to path: String) throws {
        guard let file = fopen(path, "wb") else { throw systemError("cannot create", path) }
        let written = bytes.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, file) }
        let closed = fclose(file)
        guard written == bytes.count, closed == 0 else { throw systemError("cannot write", path) }
    }

    /// Creates a folder (and its parents) if it does not exist.
    public static func makeDirectory(_ path: String) throws {
        var prefix = path.hasPrefix("/") ? "/" : ""
        for component in path.split(separator: "/") {
            prefix += component + "/"
            if mkdir(prefix, 0o755) != 0 && errno != EEXIST { throw systemError("cannot create folder", prefix) }
        }
    }

    private static func systemError(_ what: String, _ path: String) -> KilnError {
        KilnError.io("\(what) \(path): \(String(cString: strerror(errno)))")
    }
}
