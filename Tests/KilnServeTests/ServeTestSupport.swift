import HTTPTypes
import Hummingbird
import KilnCore
import NIOConcurrencyHelpers
import NIOEmbedded

@testable import KilnServe

#if canImport(Glibc)
import Glibc
#endif

/// The small CNN fixture (input `image` [N, 3, 16, 16], output `softmax44` [N, 4]).
let tinyModel: String = {
    let file = "\(#filePath)"
    let folder = file[..<file.lastIndex(of: "/")!]
    return "\(folder)/../c/fixtures/tiny_cnn.onnx"
}()

/// A fresh model folder under /tmp, removed by the caller with `remove`.
struct ModelFolder {
    let path: String

    init() {
        var template = Array("/tmp/kiln-serve-test-XXXXXX".utf8CString)
        path = template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)) }
    }

    /// `<model>/<version>/model.onnx` (the tiny CNN, or these bytes).
    func addVersion(_ model: String, _ version: Int, bytes: [UInt8]? = nil, config: String? = nil) throws {
        mkdir("\(path)/\(model)", 0o755)
        mkdir("\(path)/\(model)/\(version)", 0o755)
        try FileIO.write(bytes ?? (try FileIO.read(tinyModel)), to: "\(path)/\(model)/\(version)/model.onnx")
        if let config { try FileIO.write(Array(config.utf8), to: "\(path)/\(model)/\(version)/config.json") }
    }

    func write(_ text: String, to file: String) throws {
        try FileIO.write(Array(text.utf8), to: "\(path)/\(file)")
    }

    func removeModel(_ model: String) {
        _ = system("rm -rf '\(path)/\(model)'")
    }

    func remove() {
        _ = system("rm -rf '\(path)'")
    }
}

/// Calls the server's routes in process: no socket, the same router `kiln serve` runs.
struct InProcessServer {
    let repository: ModelRepository
    let loader: ModelLoader
    let responder: Router<ServeContext>.Responder
    let logger = Application(router: Router()).logger

    init(_ folder: ModelFolder, adminToken: String? = nil, requestTimeout: Double = 30) throws {
        var options = ServerOptions(modelDirectory: folder.path)
        options.adminToken = adminToken
        options.requestTimeoutSeconds = requestTimeout
        options.maximumBodyBytes = 1 << 20
        repository = try ModelRepository(directory: folder.path)
        loader = ModelLoader(repository: repository, log: { _ in })
        responder = KilnServer.router(repository: repository, loader: loader, metrics: ServerMetrics(), options: options).buildResponder()
    }

    struct Reply {
        let status: Int
        let headers: HTTPFields
        let text: String
        var json: JSONValue { (try? JSONValue.parse(Array(text.utf8))) ?? .null }
    }

    func call(_ method: HTTPRequest.Method, _ path: String, body: [UInt8]? = nil, headers: [String: String] = [:]) async throws -> Reply {
        var fields = HTTPFields()
        for (name, value) in headers { fields[HTTPField.Name(name)!] = value }
        if let body { fields[.contentLength] = String(body.count) }
        let request = Request(head: HTTPRequest(method: method, scheme: "http", authority: "localhost", path: path, headerFields: fields),
                              body: RequestBody(buffer: ByteBuffer(bytes: body ?? [])))
        let context = ServeContext(source: .init(channel: EmbeddedChannel(), logger: logger))
        let response = try await responder.respond(to: request, context: context)
        let sink = NIOLockedValueBox(ByteBuffer())
        try await response.body.write(Collector(sink: sink))
        return Reply(status: response.status.code, headers: response.headers, text: sink.withLockedValue { String(buffer: $0) })
    }

    func post(_ path: String, json: String, headers: [String: String] = [:]) async throws -> Reply {
        try await call(.post, path, body: Array(json.utf8), headers: ["Content-Type": "application/json"].merging(headers) { $1 })
    }

    struct Collector: ResponseBodyWriter {
        let sink: NIOLockedValueBox<ByteBuffer>
        mutating func write(_ buffer: ByteBuffer) async throws {
            sink.withLockedValue { collected in
                var buffer = buffer
                collected.writeBuffer(&buffer)
            }
        }
        consuming func finish(_ trailingHeaders: HTTPFields?) async throws {}
    }
}

/// One tiny-CNN instance of zeros, as JSON.
let tinyInstance = "[" + (0..<3).map { _ in "[" + (0..<16).map { _ in "[" + Array(repeating: "0", count: 16).joined(separator: ",") + "]" }.joined(separator: ",") + "]" }.joined(separator: ",") + "]"
