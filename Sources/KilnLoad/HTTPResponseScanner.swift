#if canImport(Glibc)
import Glibc
#endif

/// An incremental HTTP/1.1 response scanner: it finds where each response ends (status line,
/// headers, then a `Content-Length` body, a chunked body, or a body up to the connection's
/// close) without copying or allocating per response. Only the status code and whether the
/// connection stays open are kept: a load generator needs nothing else.
public struct HTTPResponseScanner: Sendable {
    /// One complete response.
    public struct Response: Sendable, Equatable {
        public var status: Int
        public var keepAlive: Bool
    }

    public struct Malformed: Error, Sendable, CustomStringConvertible {
        public let description: String
    }

    private enum State: Sendable {
        case head
        case body(remaining: Int)
        case chunkSize
        case chunkData(remaining: Int)
        case chunkDataEnd
        case trailers
        case untilClose
    }

    private var state = State.head
    /// Bytes of an unfinished line (the head, a chunk-size line or a trailer) split across reads.
    private var pending: [UInt8] = []
    private var status = 0
    private var keepAlive = true
    /// Set for a response to HEAD, whose headers describe a body that is not sent.
    public var expectsNoBody = false

    public init() {}

    /// Whether a response has started but not finished.
    public var isMidResponse: Bool {
        if case .head = state { return !pending.isEmpty }
        return true
    }

    /// Scans `bytes`, calling `complete` for each response that ends in them.
    public mutating func scan(_ bytes: UnsafeRawBufferPointer, _ complete: (Response) -> Void) throws(Malformed) {
        var offset = 0
        let count = bytes.count
        while offset < count {
            switch state {
            case .head:
                if pending.isEmpty {
                    // The usual case: the whole head is in this read, parsed in one pass.
                    guard let end = try parseHead(bytes, from: offset) else {
                        pending.append(contentsOf: bytes[offset...])
                        return
                    }
                    offset = end
                } else {
                    guard let end = Self.headEnd(bytes, from: offset, pending: pending) else {
                        pending.append(contentsOf: bytes[offset...])
                        return
                    }
                    pending.append(contentsOf: bytes[offset..<end])
                    let head = pending
                    pending.removeAll(keepingCapacity: true)
                    var failure: Malformed?
                    head.withUnsafeBytes { buffer in
                        do { _ = try parseHead(buffer, from: 0) } catch { failure = error as? Malformed ?? Malformed(description: "\(error)") }
                    }
                    if let failure { throw failure }
                    offset = end
                }
                if case .head = state { complete(Response(status: status, keepAlive: keepAlive)) }
            case .body(let remaining):
                let take = min(remaining, count - offset)
                offset += take
                if take == remaining {
                    state = .head
                    complete(Response(status: status, keepAlive: keepAlive))
                } else {
                    state = .body(remaining: remaining - take)
                }
            case .chunkSize:
                guard let line = takeLine(bytes, &offset) else { return }
                let size = try Self.chunkSize(line)
                pending.removeAll(keepingCapacity: true)
                state = size == 0 ? .trailers : .chunkData(remaining: size)
            case .chunkData(let remaining):
                let take = min(remaining, count - offset)
                offset += take
                state = take == remaining ? .chunkDataEnd : .chunkData(remaining: remaining - take)
            case .chunkDataEnd:
                guard let line = takeLine(bytes, &offset) else { return }
                guard line.isEmpty else { throw Malformed(description: "chunk data longer than its size") }
                pending.removeAll(keepingCapacity: true)
                state = .chunkSize
            case .trailers:
                guard let line = takeLine(bytes, &offset) else { return }
                pending.removeAll(keepingCapacity: true)
                if line.isEmpty {
                    state = .head
                    complete(Response(status: status, keepAlive: keepAlive))
                }
            case .untilClose:
                return
            }
        }
    }

    /// The connection closed: the response whose body ran to the close, if one did.
    public mutating func closed() -> Response? {
        defer { state = .head; pending.removeAll() }
        if case .untilClose = state { return Response(status: status, keepAlive: false) }
        return nil
    }

    // MARK: - Head

    /// Parses the head that starts at `start`: the offset just past its blank line, or nil when
    /// the head does not end in `bytes` (nothing is kept then; the caller collects the bytes).
    private mutating func parseHead(_ bytes: UnsafeRawBufferPointer, from start: Int) throws(Malformed) -> Int? {
        // "HTTP/1.x NNN reason\r\n"
        guard let statusEnd = Self.firstNewline(bytes, from: start) else { return nil }
        let head = UnsafeRawBufferPointer(rebasing: bytes[start...])
        guard statusEnd - start >= 12, head[0] == 0x48, head[1] == 0x54, head[2] == 0x54, head[3] == 0x50,
              head[4] == 0x2F, head[5] == 0x31, head[6] == 0x2E, head[8] == 0x20 else {
            throw Malformed(description: "not an HTTP/1.x status line")
        }
        var code = 0
        for index in 9..<12 {
            let digit = Int(head[index]) &- 48
            guard digit >= 0, digit <= 9 else { throw Malformed(description: "status code is not three digits") }
            code = code * 10 + digit
        }
        var keepAlive = head[7] == 0x31  // HTTP/1.1 keeps the connection by default, 1.0 does not
        var contentLength: Int? = nil
        var chunked = false
        var lineStart = statusEnd + 1
        while true {
            guard let newline = Self.firstNewline(bytes, from: lineStart) else { return nil }
            var stop = newline
            if stop > lineStart, bytes[stop - 1] == 0x0D { stop -= 1 }
            let line = UnsafeRawBufferPointer(rebasing: bytes[lineStart..<stop])
            lineStart = newline + 1
            if line.isEmpty { break }  // the blank line that ends the head
            guard let colon = line.firstIndex(of: 0x3A) else { continue }
            let name = UnsafeRawBufferPointer(rebasing: line[..<colon])
            let value = Self.trimmed(UnsafeRawBufferPointer(rebasing: line[(colon + 1)...]))
            if Self.equalsIgnoringCase(name, "content-length") {
                guard let length = Self.decimal(value) else { throw Malformed(description: "invalid Content-Length") }
                contentLength = length
            } else if Self.equalsIgnoringCase(name, "transfer-encoding") {
                chunked = Self.containsIgnoringCase(value, "chunked")
            } else if Self.equalsIgnoringCase(name, "connection") {
                if Self.containsIgnoringCase(value, "close") { keepAlive = false }
                else if Self.containsIgnoringCase(value, "keep-alive") { keepAlive = true }
            }
        }
        status = code
        self.keepAlive = keepAlive
        let bodiless = expectsNoBody || code < 200 || code == 204 || code == 304
        if bodiless {
            state = .head
        } else if chunked {
            state = .chunkSize
        } else if let contentLength {
            state = contentLength == 0 ? .head : .body(remaining: contentLength)
        } else {
            state = .untilClose
            self.keepAlive = false
        }
        return lineStart
    }

    /// The offset just past the blank line that ends the head, looking across `pending`.
    private static func headEnd(_ bytes: UnsafeRawBufferPointer, from start: Int, pending: [UInt8]) -> Int? {
        // A line feed ends the head when at most a carriage return separates it from the previous one.
        var previousNewline = Int.min / 2  // offset of the last line feed seen, in `bytes` coordinates
        if let last = pending.lastIndex(of: 0x0A), pending[(last + 1)...].allSatisfy({ $0 == 0x0D }) {
            previousNewline = start - (pending.count - last)
        }
        var index = start
        while let newline = firstNewline(bytes, from: index) {
            let gap = newline - previousNewline - 1  // bytes between the two line feeds
            if gap == 0 || gap == 1 && (newline - 1 >= start ? bytes[newline - 1] : pending[pending.count - 1]) == 0x0D {
                return newline + 1
            }
            previousNewline = newline
            index = newline + 1
        }
        return nil
    }

    /// The offset of the first line feed at or after `start` (memchr: a head is scanned per response).
    private static func firstNewline(_ bytes: UnsafeRawBufferPointer, from start: Int) -> Int? {
        guard start < bytes.count, let base = bytes.baseAddress,
              let found = memchr(base + start, 0x0A, bytes.count - start) else { return nil }
        return base.distance(to: UnsafeRawPointer(found))
    }

    /// The next whole line (without its CRLF), collecting partial lines in `pending`.
    private mutating func takeLine(_ bytes: UnsafeRawBufferPointer, _ offset: inout Int) -> [UInt8]? {
        guard let newline = bytes[offset...].firstIndex(of: 0x0A) else {
            pending.append(contentsOf: bytes[offset...])
            offset = bytes.count
            return nil
        }
        pending.append(contentsOf: bytes[offset..<newline])
        offset = newline + 1
        if pending.last == 0x0D { pending.removeLast() }
        return pending
    }

    private static func chunkSize(_ line: [UInt8]) throws(Malformed) -> Int {
        var size = 0
        var digits = 0
        for byte in line {
            let value: Int
            switch byte {
            case 0x30...0x39: value = Int(byte) - 0x30
            case 0x41...0x46: value = Int(byte) - 0x41 + 10
            case 0x61...0x66: value = Int(byte) - 0x61 + 10
            case 0x3B, 0x20, 0x09: // chunk extensions follow
                guard digits > 0 else { throw Malformed(description: "invalid chunk size") }
                return size
            default: throw Malformed(description: "invalid chunk size")
            }
            guard digits < 15 else { throw Malformed(description: "chunk size too large") }
            size = size * 16 + value
            digits += 1
        }
        guard digits > 0 else { throw Malformed(description: "invalid chunk size") }
        return size
    }

    private static func trimmed(_ bytes: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer {
        var start = 0, end = bytes.count
        while start < end, bytes[start] == 0x20 || bytes[start] == 0x09 { start += 1 }
        while end > start, bytes[end - 1] == 0x20 || bytes[end - 1] == 0x09 { end -= 1 }
        return UnsafeRawBufferPointer(rebasing: bytes[start..<end])
    }

    private static func decimal(_ bytes: UnsafeRawBufferPointer) -> Int? {
        guard !bytes.isEmpty, bytes.count <= 18 else { return nil }
        var value = 0
        for byte in bytes {
            guard byte >= 0x30, byte <= 0x39 else { return nil }
            value = value * 10 + Int(byte - 0x30)
        }
        return value
    }

    private static func lowered(_ byte: UInt8) -> UInt8 { byte >= 0x41 && byte <= 0x5A ? byte | 0x20 : byte }

    private static func equalsIgnoringCase(_ bytes: UnsafeRawBufferPointer, _ name: StaticString) -> Bool {
        let count = name.utf8CodeUnitCount
        guard bytes.count == count else { return false }
        let start = name.utf8Start
        for index in 0..<count where lowered(bytes[index]) != start[index] { return false }
        return true
    }

    private static func containsIgnoringCase(_ bytes: UnsafeRawBufferPointer, _ word: StaticString) -> Bool {
        let count = word.utf8CodeUnitCount
        guard bytes.count >= count else { return false }
        let start = word.utf8Start
        outer: for origin in 0...(bytes.count - count) {
            for index in 0..<count where lowered(bytes[origin + index]) != start[index] { continue outer }
            return true
        }
        return false
    }
}
