import Testing
@testable import KilnLoad

@Suite struct HTTPResponseScannerTests {
    /// Feeds `text` in pieces split at `cut` and returns the responses found.
    func scan(_ text: String, cut: Int? = nil, head: Bool = false) throws -> [HTTPResponseScanner.Response] {
        var scanner = HTTPResponseScanner()
        scanner.expectsNoBody = head
        var found: [HTTPResponseScanner.Response] = []
        let bytes = Array(text.utf8)
        let pieces = cut.map { [Array(bytes[..<$0]), Array(bytes[$0...])] } ?? [bytes]
        for piece in pieces {
            try piece.withUnsafeBytes { buffer in try scanner.scan(buffer) { found.append($0) } }
        }
        if let response = scanner.closed() { found.append(response) }
        return found
    }

    static let responses = [
        "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Type: text/plain\r\n\r\nhello",
        "HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n1A\r\nabcdefghijklmnopqrstuvwxyz\r\n0\r\nX-Trailer: 1\r\n\r\n",
        "HTTP/1.1 204 No Content\r\n\r\n",
        "HTTP/1.1 503 Busy\r\nConnection: close\r\nContent-Length: 3\r\n\r\nbye",
    ]

    @Test func findsEachResponseWhereverTheBytesAreSplit() throws {
        let all = Self.responses.joined()
        let expected: [HTTPResponseScanner.Response] = [
            .init(status: 200, keepAlive: true), .init(status: 404, keepAlive: true), .init(status: 200, keepAlive: true),
            .init(status: 204, keepAlive: true), .init(status: 503, keepAlive: false),
        ]
        #expect(try scan(all) == expected)
        for cut in 1..<all.utf8.count {
            #expect(try scan(all, cut: cut) == expected, "split at \(cut)")
        }
    }

    @Test func bodyToTheCloseAndHTTP10() throws {
        #expect(try scan("HTTP/1.1 200 OK\r\n\r\nstreamed until the end") == [.init(status: 200, keepAlive: false)])
        #expect(try scan("HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok") == [.init(status: 200, keepAlive: false)])
        #expect(try scan("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nok") == [.init(status: 200, keepAlive: true)])
    }

    @Test func bareLineFeedsEndLinesToo() throws {
        let text = "HTTP/1.1 200 OK\nContent-Length: 2\nX-Empty:\n\nokHTTP/1.1 201 Created\r\nContent-Length: 0\n\r\n"
        let expected: [HTTPResponseScanner.Response] = [.init(status: 200, keepAlive: true), .init(status: 201, keepAlive: true)]
        for cut in [nil] + (1..<text.utf8.count).map(Optional.some) {
            #expect(try scan(text, cut: cut) == expected, "split at \(cut ?? 0)")
        }
    }

    @Test func headResponsesHaveNoBody() throws {
        #expect(try scan("HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n", head: true) == [.init(status: 200, keepAlive: true)])
    }

    @Test func midResponseIsKnown() throws {
        var scanner = HTTPResponseScanner()
        let partial = Array("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc".utf8)
        try partial.withUnsafeBytes { try scanner.scan($0) { _ in Issue.record("not complete yet") } }
        #expect(scanner.isMidResponse)
        #expect(scanner.closed() == nil)
    }

    @Test func malformedResponsesAreErrors() {
        for bad in ["SSH-2.0-OpenSSH\r\n\r\n", "HTTP/1.1 2x0 OK\r\n\r\n", "HTTP/1.1 200 OK\r\nContent-Length: ten\r\n\r\n",
                    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"] {
            #expect(throws: HTTPResponseScanner.Malformed.self) { try scan(bad) }
        }
    }
}
