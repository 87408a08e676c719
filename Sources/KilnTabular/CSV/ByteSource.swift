import KilnCore

#if canImport(Glibc)
import Glibc
#endif

/// Where a reader's bytes come from: a file, read sequentially, or memory.
protocol ByteSource: AnyObject {
    var isAtEnd: Bool { get }
    /// Appends up to `count` bytes to `buffer`; sets `isAtEnd` after the last byte.
    func read(into buffer: inout [UInt8], count: Int) throws
}

final class FileSource: ByteSource {
    private let file: UnsafeMutablePointer<FILE>
    private let path: String
    private(set) var isAtEnd = false

    init(path: String) throws {
        guard let file = fopen(path, "rb") else {
            throw KilnError.io("cannot open \(path): \(String(cString: strerror(errno)))")
        }
        self.file = file
        self.path = path
    }

    deinit { fclose(file) }

    func read(into buffer: inout [UInt8], count: Int) throws {
        let start = buffer.count
        buffer.append(contentsOf: repeatElement(0, count: count))
        let got = buffer.withUnsafeMutableBufferPointer { fread($0.baseAddress! + start, 1, count, file) }
        buffer.removeLast(count - got)
        if got < count {
            if ferror(file) != 0 { throw KilnError.io("cannot read \(path): \(String(cString: strerror(errno)))") }
            isAtEnd = true
        }
    }
}

final class MemorySource: ByteSource {
    private let bytes: [UInt8]
    private var position = 0
    var isAtEnd: Bool { position == bytes.count && finishedReading }
    private var finishedReading = false

    init(bytes: [UInt8]) { self.bytes = bytes }

    func read(into buffer: inout [UInt8], count: Int) throws {
        let end = min(bytes.count, position + count)
        buffer.append(contentsOf: bytes[position..<end])
        position = end
        if end == bytes.count { finishedReading = true }
    }
}
