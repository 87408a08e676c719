import HTTPTypes
import Hummingbird
import KilnCore
import KilnNN
import NIOConcurrencyHelpers
import NIOCore

/// Hummingbird's request context plus the connection: a request whose body does not arrive in
/// time has its connection closed.
public struct ServeContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    public let channel: any Channel

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        channel = source.channel
    }
}

extension KilnServer {
    /// The routes: TensorFlow Serving's model status, metadata, predict and classify (by version
    /// number, label or latest), health, Prometheus metrics, and the admin endpoints.
    static func router(repository: ModelRepository, loader: ModelLoader, metrics: ServerMetrics, options: ServerOptions) -> Router<ServeContext> {
        let router = Router(context: ServeContext.self)
        router.add(middleware: MetricsRecorder(metrics: metrics))
        for path in ["/metrics", "/monitoring/prometheus/metrics"] {
            router.get(RouterPath(path)) { _, _ in
                var headers = HTTPFields()
                headers[.contentType] = "text/plain; version=0.0.4"
                return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: metrics.text(repository))))
            }
        }
        router.get("/v1/health/live") { _, _ in Responses.json(.ok, .object([("status", .string("live"))])) }
        router.get("/v1/health/ready") { _, _ in
            let (ready, problems) = repository.readiness
            return Responses.json(ready ? .ok : .serviceUnavailable, .object([
                ("status", .string(ready ? "ready" : "unavailable")),
                ("models", .array(repository.available.keys.sorted().map { .string($0) })),
                ("problems", .array(problems.map { .string($0) })),
            ]))
        }
        router.get("/v1/models/**") { request, _ in
            await Responses.respond { try status(request.uri.path, repository) }
        }
        router.post("/v1/models/**") { request, context in
            await Responses.respond { try await predict(request, context, repository, options) }
        }
        router.post("/v1/admin/**") { request, _ in
            await Responses.respond { try await admin(request, loader, options) }
        }
        return router
    }

    /// A parsed `<prefix><name>[/versions/<v> | /labels/<label>][/metadata | :<action>]` path.
    struct ModelPath {
        var name: String
        var version: Int?
        var label: String?
        var action: String?

        init(_ path: String, prefix: String = "/v1/models/") throws {
            var rest = String(path.dropFirst(prefix.count))
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
            } else if parts.count == 3, parts[1] == "labels" {
                label = parts[2]
            } else if parts.count != 1 {
                throw KilnError(.notFound, "no route \(path)")
            }
        }
    }

    /// What a predict body holds, from its content type.
    enum BodyKind {
        case json, image, binary

        init(contentType: String?) throws {
            let type = (contentType ?? "application/json").lowercased()
            if type.hasPrefix("image/jpeg") || type.hasPrefix("image/png") {
                self = .image
            } else if type.hasPrefix("application/octet-stream") {
                self = .binary
            } else if type.hasPrefix("application/json") || type.hasPrefix("text/plain") || type.hasPrefix("application/x-www-form-urlencoded") {
                self = .json
            } else {
                throw ServeError(.unsupportedMediaType,
                                 "content type \(type) is not supported; send JSON (application/json), an image (image/jpeg, image/png) or a tensor (application/octet-stream)")
            }
        }
    }

    // MARK: Handlers

    static func status(_ path: String, _ repository: ModelRepository) throws -> Response {
        let route = try ModelPath(path)
        switch route.action {
        case nil:
            var versions = try repository.versions(route.name)
            if let wanted = try route.label.map({ try repository.version(route.name, label: $0) }) ?? route.version {
                versions = versions.filter { $0.version == wanted }
                guard !versions.isEmpty else { throw KilnError(.notFound, "model '\(route.name)' has no version \(wanted)") }
            }
            return Responses.json(.ok, Predict.status(versions))
        case "metadata":
            return Responses.json(.ok, Predict.metadata(try repository.model(route.name, version: route.version, label: route.label)))
        default:
            throw KilnError(.notFound, "no GET route for :\(route.action!) (use POST)")
        }
    }

    static func predict(_ request: Request, _ context: ServeContext, _ repository: ModelRepository, _ options: ServerOptions) async throws -> Response {
        let start = ContinuousClock.now
        let route = try ModelPath(request.uri.path)
        guard route.action == "predict" || route.action == "classify" else {
            throw KilnError(.notFound, "unknown method ':\(route.action ?? "")' (supported: :predict, :classify)")
        }
        let kind = try BodyKind(contentType: request.headers[.contentType])
        let served = try repository.model(route.name, version: route.version, label: route.label)
        let body = try await receive(request, context, options)
        let remaining = options.requestTimeoutSeconds - ModelRepository.seconds(ContinuousClock.now - start)
        let headers = request.headers
        var response = try await withTimeLimit(remaining, timeout: {
            ServeError(.gatewayTimeout, "no answer within the request timeout of \(options.requestTimeoutSeconds) s")
        }) {
            try await answer(route.action!, kind, body, headers, served)
        }
        response.headers[versionHeader] = String(served.version)
        return response
    }

    /// The request body, at most `maximumBodyBytes` (else 413); the connection of a body that has
    /// not arrived when the request timeout passes is closed.
    static func receive(_ request: Request, _ context: ServeContext, _ options: ServerOptions) async throws -> [UInt8] {
        let tooLarge = ServeError(.contentTooLarge, "the request body is larger than \(options.maximumBodyBytes) bytes")
        if let length = request.headers[.contentLength].flatMap({ Int($0) }), length > options.maximumBodyBytes { throw tooLarge }
        let expired = NIOLockedValueBox(false)
        let channel = context.channel
        let timer = channel.eventLoop.scheduleTask(in: .nanoseconds(Int64(options.requestTimeoutSeconds * 1e9))) {
            expired.withLockedValue { $0 = true }
            // A slow client: its connection is closed (an answer could not reach it anyway
            // before it finished sending).
            channel.close(promise: nil)
        }
        defer { timer.cancel() }
        let late = ServeError(.requestTimeout, "the request body did not arrive within the request timeout of \(options.requestTimeoutSeconds) s")
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: options.maximumBodyBytes)
        } catch is NIOTooManyBytesError {
            throw tooLarge
        } catch {
            throw expired.withLockedValue { $0 } ? late : error
        }
        if expired.withLockedValue({ $0 }) { throw late }
        return Array(buffer.readableBytesView)
    }

    static func answer(_ action: String, _ kind: BodyKind, _ body: [UInt8], _ headers: HTTPFields, _ served: ServedModel) async throws -> Response {
        func reply(_ result: JSONValue, instances: Int?) -> Response {
            var response = Responses.json(.ok, result)
            if let instances { response.headers[instancesHeader] = String(instances) }
            return response
        }
        switch kind {
        case .image:
            guard action == "predict" else { throw KilnError.invalidArgument("image bodies go to :predict") }
            return reply(try await Predict.runImages([body], on: served), instances: 1)
        case .binary:
            guard action == "predict" else { throw KilnError.invalidArgument("tensor bodies go to :predict") }
            let input = try BinaryTensor.input(body, shape: headers[shapeHeader], name: headers[inputHeader], model: served.model)
            let rows = input.tensor.shape.first ?? 1
            return reply(try Predict.rows(try await served.infer([input.name: input.tensor]), count: rows, served), instances: rows)
        case .json:
            if action == "predict", let fast = try await Predict.runTensorBody(body, on: served) {
                return reply(fast.response, instances: fast.instances)
            }
            let request: JSONValue
            do { request = try JSONValue.parse(body) } catch let error as KilnError {
                throw KilnError.invalidArgument("the body is not valid JSON: \(error.message)")
            }
            let instances = request["instances"]?.arrayValue?.count
            let result = action == "classify" ? try await Predict.classify(request, on: served) : try await Predict.run(request, on: served)
            return reply(result, instances: instances)
        }
    }

    /// `POST /v1/admin/reload` (scan the folder now, retrying failed versions) and
    /// `POST /v1/admin/models/<name>/versions/<v>:unload`, with `Authorization: Bearer <token>`.
    static func admin(_ request: Request, _ loader: ModelLoader, _ options: ServerOptions) async throws -> Response {
        guard let token = options.adminToken else {
            throw ServeError(.forbidden, "the admin endpoints are off; start kiln serve with --admin-token or KILN_ADMIN_TOKEN")
        }
        let given = request.headers[.authorization] ?? ""
        guard given.hasPrefix("Bearer "), constantTimeEqual(Array(given.utf8.dropFirst(7)), Array(token.utf8)) else {
            throw ServeError(.unauthorized, "the admin endpoints need the header Authorization: Bearer <admin token>")
        }
        let path = request.uri.path
        if path == "/v1/admin/reload" {
            let events = try await loader.scan(force: true)
            let repository = loader.repository
            return Responses.json(.ok, .object([
                ("events", .array(events.map { .string($0.description) })),
                ("failures", .int(events.filter(\.isFailure).count)),
                ("models", .object(try repository.modelNames.map { ($0, Predict.status(try repository.versions($0))) })),
            ]))
        }
        if path.hasPrefix("/v1/admin/models/") {
            let route = try ModelPath(path, prefix: "/v1/admin/models/")
            if route.action == "unload", let version = route.version {
                try await loader.unload(route.name, version: version)
                return Responses.json(.ok, .object([("unloaded", .object([("model", .string(route.name)), ("version", .string(String(version)))]))]))
            }
        }
        throw KilnError(.notFound, "no admin route \(path) (POST /v1/admin/reload, POST /v1/admin/models/<name>/versions/<v>:unload)")
    }

    /// Compares without returning early, so the time taken does not tell how much of a guess was right.
    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        var difference = UInt8(a.count == b.count ? 0 : 1)
        for index in 0..<max(a.count, b.count) {
            difference |= (index < a.count ? a[index] : 0) ^ (index < b.count ? b[index] : 0)
        }
        return difference == 0
    }

    /// Times every request and counts it by model, version and status; answers what no route
    /// matched with a JSON 404 too.
    struct MetricsRecorder: RouterMiddleware {
        typealias Context = ServeContext
        let metrics: ServerMetrics

        func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
            let start = ContinuousClock.now
            let response: Response
            do {
                response = try await next(request, context)
            } catch let error as HTTPError where error.status == .notFound {
                response = Responses.json(.notFound, Responses.errorBody("no route \(request.method) \(request.uri.path)"))
            } catch {
                response = Responses.failure(error)
            }
            let seconds = ModelRepository.seconds(ContinuousClock.now - start)
            let path = request.uri.path
            var model = ""
            var version = ""
            // Names of models that do not exist are not labels: a client could make up endless series.
            if path.hasPrefix("/v1/models/"), response.status != .notFound, let route = try? ModelPath(path) {
                model = route.name
                version = response.headers[versionHeader] ?? route.version.map(String.init) ?? route.label ?? ""
            }
            let instances = request.method == .post ? response.headers[instancesHeader].flatMap { Int($0) } : nil
            metrics.record(model: model, version: version, status: response.status.code, seconds: seconds, instances: instances)
            return response
        }
    }

    /// The number of instances a predict response answered (for the batch-size histogram).
    static let instancesHeader = HTTPField.Name("Kiln-Instances")!
    /// The model version that answered.
    static let versionHeader = HTTPField.Name("Kiln-Model-Version")!
    /// A binary tensor body's shape and input name.
    static let shapeHeader = HTTPField.Name("Kiln-Shape")!
    static let inputHeader = HTTPField.Name("Kiln-Input")!
}
