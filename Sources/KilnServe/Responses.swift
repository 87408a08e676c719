import Hummingbird
import KilnCore
import NIOCore

/// An error with its HTTP status (the others map from `KilnError` codes).
struct ServeError: Error {
    let status: HTTPResponse.Status
    let message: String
    init(_ status: HTTPResponse.Status, _ message: String) {
        self.status = status
        self.message = message
    }
}

/// JSON responses; every error is `{"error": "..."}` with a status that says whose fault it is.
enum Responses {
    static func errorBody(_ message: String) -> JSONValue { .object([("error", .string(message))]) }

    static func json(_ status: HTTPResponse.Status, _ body: JSONValue) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: body.text)))
    }

    static func failure(_ error: Error) -> Response {
        switch error {
        case let error as ServeError:
            var response = json(error.status, errorBody(error.message))
            if error.status == .unauthorized { response.headers[.wwwAuthenticate] = "Bearer" }
            return response
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

    static func respond(_ body: () async throws -> Response) async -> Response {
        do { return try await body() } catch { return failure(error) }
    }
}
