import HTTPTypes
import Hummingbird
import KilnCore
import KilnNN
import NIOCore

/// Where and how `kiln serve` listens.
public struct ServerOptions: Sendable {
    public var host = "127.0.0.1"
    public var port = 8501
    /// Larger request bodies get 413.
    public var maximumBodyBytes = 64 << 20

    public init() {}
}

/// TensorFlow Serving's REST API over a model repository: model status and metadata, predict
/// in row and columnar form, health; errors are JSON `{"error": "..."}` with a 4xx status that
/// says what was expected.
public enum KilnServer {
    public static func run(repository: ModelRepository, options: ServerOptions, onReady: @escaping @Sendable (Int) -> Void = { _ in }) async throws {
        let application = Application(
            router: router(repository: repository, options: options),
            configuration: .init(address: .hostname(options.host, port: options.port), serverName: "kiln"),
            onServerRunning: { channel in onReady(channel.localAddress?.port ?? options.port) })
        try await application.runService()
    }

    static func router(repository: ModelRepository, options: ServerOptions) -> Router<BasicRequestContext> {
        let router = Router()
        let metrics = ServerMetrics(loadSeconds: repository.loadSeconds)
        for (name, versions) in repository.models {
            for served in versions {
                served.batcher?.observer.withLockedValue { observer in
                    observer = { size in metrics.recordBatch(model: name, size: size) }
                }
            }
        }
        router.add(middleware: MetricsRecorder(metrics: metrics))
        for path in ["/metrics", "/monitoring/prometheus/metrics"] {
            router.get(RouterPath(path)) { _, _ in
                var headers = HTTPFields()
                headers[.contentType] = "text/plain; version=0.0.4"
                return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: metrics.text)))
            }
        }
        router.get("/v1/health/live") { _, _ in json(.ok, .object([("status", .string("live"))])) }
        router.get("/v1/health/ready") { _, _ in
            json(.ok, .object([("status", .string("ready")), ("models", .array(repository.models.keys.sorted().map { .string($0) }))]))
        }
        router.get("/v1/models/**") { request, _ in
            respond { try get(request.uri.path, repository) }
        }
        router.post("/v1/models/**") { request, _ in
            await respondAsync {
                let type = request.headers[.contentType] ?? "application/json"
                let isImage = type.hasPrefix("image/jpeg") || type.hasPrefix("image/png")
                if !isImage, !type.hasPrefix("application/json"), !type.hasPrefix("text/plain"), !type.hasPrefix("application/x-www-form-urlencoded") {
                    throw ServeError(.unsupportedMediaType, "content type \(type) is not supported; send JSON (application/json) or an image (image/jpeg, image/png)")
                }
                let buffer: ByteBuffer
                do {
                    buffer = try await request.body.collect(upTo: options.maximumBodyBytes)
                } catch is NIOTooManyBytesError {
                    throw ServeError(.contentTooLarge, "the request body is larger than \(options.maximumBodyBytes) bytes")
                }
                return try await post(request.uri.path, Array(buffer.readableBytesView), repository, isImage: isImage)
            }
        }
        router.get("/**") { request, _ in json(.notFound, errorBody("no route \(request.uri.path)")) }
        router.post("/**") { request, _ in json(.notFound, errorBody("no route \(request.uri.path)")) }
        return router
    }

    /// A parsed `/v1/models/<name>[/versions/<v>][/metadata|:predict]` path.
    struct ModelPath {
        var name: String
        var version: Int?
        var action: String?

        init(_ path: String) throws {
            var rest = String(path.dropFirst("/v1/models/".count))
            if let colon = rest.lastIndex(of: ":") {
                action = String(rest[rest.index(after: colon)...])
                rest = String(rest[..<colon])
            }
            var parts = rest.split(separator: "/").map(String.init)
            if parts.last == "metadata" {
                action = "metadata"
                parts.removeLast()
            }
            guard let first = parts.first else { throw KilnError(.notFound, "no model name in \(path)") }
            name = first
            if parts.count == 3, parts[1] == "versions" {
                guard let number = Int(parts[2]) else { throw KilnError.invalidArgument("version must be a number, got '\(parts[2])'") }
                version = number
            } else if parts.count != 1 {
                throw KilnError(.notFound, "no route \(path)")
            }
        }
    }

    static func get(_ path: String, _ repository: ModelRepository) throws -> Response {
        let route = try ModelPath(path)
        switch route.action {
        case nil:
            if let version = route.version { return json(.ok, Predict.status([try repository.model(route.name, version: version)])) }
            _ = try repository.model(route.name)
            return json(.ok, Predict.status(repository.models[route.name]!.reversed()))
        case "metadata":
            return json(.ok, Predict.metadata(try repository.model(route.name, version: route.version)))
        default:
            throw KilnError(.notFound, "no GET route for :\(route.action!) (use POST)")
        }
    }

    static func post(_ path: String, _ body: [UInt8], _ repository: ModelRepository, isImage: Bool = false) async throws -> Response {
        let route = try ModelPath(path)
        let served = try repository.model(route.name, version: route.version)
        guard route.action == "predict" || route.action == "classify" else {
            throw KilnError(.notFound, "unknown method ':\(route.action ?? "")' (supported: :predict, :classify)")
        }
        if isImage {
            guard route.action == "predict" else { throw KilnError.invalidArgument("image bodies go to :predict") }
            var response = json(.ok, try await Predict.runImages([body], on: served))
            response.headers[instancesHeader] = "1"
            return response
        }
        if route.action == "predict", let fast = try await Predict.runTensorBody(body, on: served) {
            var response = json(.ok, fast.response)
            if let instances = fast.instances { response.headers[instancesHeader] = String(instances) }
            return response
        }
        let request: JSONValue
        do { request = try JSONValue.parse(body) } catch let error as KilnError {
            throw KilnError.invalidArgument("the body is not valid JSON: \(error.message)")
        }
        let instances = request["instances"]?.arrayValue?.count
        let result = route.action == "classify" ? try await Predict.classify(request, on: served) : try await Predict.run(request, on: served)
        var response = json(.ok, result)
        if let instances { response.headers[instancesHeader] = String(instances) }
        return response
    }

    /// Times every request and counts it by model, version and status.
    struct MetricsRecorder: RouterMiddleware {
        typealias Context = BasicRequestContext
        let metrics: ServerMetrics

        func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
            let start = ContinuousClock.now
            let response = try await next(request, context)
            let elapsed = ContinuousClock.now - start
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            let path = request.uri.path
            var model = ""
            var version = ""
            if path.hasPrefix("/v1/models/"), let route = try? ModelPath(path) {
                model = route.name
                version = route.version.map(String.init) ?? "latest"
            }
            let instances = request.method == .post ? response.headers[instancesHeader].flatMap { Int($0) } : nil
            metrics.record(model: model, version: version, status: response.status.code, seconds: seconds, instances: instances)
            return response
        }
    }

    /// The number of instances a predict response answered (for the batch-size histogram).
    static let instancesHeader = HTTPField.Name("Kiln-Instances")!

    // MARK: Responses

    struct ServeError: Error {
        let status: HTTPResponse.Status
        let message: String
        init(_ status: HTTPResponse.Status, _ message: String) {
            self.status = status
            self.message = message
        }
    }

    static func errorBody(_ message: String) -> JSONValue { .object([("error", .string(message))]) }

    static func json(_ status: HTTPResponse.Status, _ body: JSONValue) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: body.text)))
    }

    static func failure(_ error: Error) -> Response {
        switch error {
        case let error as ServeError: return json(error.status, errorBody(error.message))
        case let error as QueueFull: return json(.tooManyRequests, errorBody(error.description))
        case let error as KilnError:
            let status: HTTPResponse.Status = switch error.code {
            case .notFound: .notFound
            case .internalError, .outOfMemory, .io: .internalServerError
            default: .badRequest
            }
            return json(status, errorBody(error.message))
        case let error as HTTPError: return json(error.status, errorBody(error.body ?? "\(error.status)"))
        default: return json(.internalServerError, errorBody("\(error)"))
        }
    }

    static func respond(_ body: () throws -> Response) -> Response {
        do { return try body() } catch { return failure(error) }
    }

    static func respondAsync(_ body: () async throws -> Response) async -> Response {
        do { return try await body() } catch { return failure(error) }
    }
}
