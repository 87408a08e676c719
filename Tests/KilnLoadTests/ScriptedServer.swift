import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix

/// A loopback HTTP server with known misbehaviour, for testing the load generator: a fixed
/// latency, a stall of `stall` every `period` (requests that arrive in it are answered when it
/// ends), every `failEvery`-th request answered 500, every `closeEvery`-th request answered by
/// closing the connection.
final class ScriptedServer: Sendable {
    struct Behaviour: Sendable {
        var latency: TimeAmount = .zero
        var stall: TimeAmount = .zero
        var period: TimeAmount = .seconds(1)
        var failEvery = 0
        var closeEvery = 0
        var body = "ok\n"
    }

    let behaviour: Behaviour
    let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    let started = NIODeadline.now()
    private let counter = NIOLockedValueBox(0)
    private let paths = NIOLockedValueBox([String]())
    private let bodyCounter = NIOLockedValueBox(0)
    private let channel: NIOLockedValueBox<Channel?> = NIOLockedValueBox(nil)

    init(_ behaviour: Behaviour = Behaviour()) throws {
        self.behaviour = behaviour
        let server = self
        let channel = try ServerBootstrap(group: group)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(Handler(server: server))
                }
            }
            .bind(host: "127.0.0.1", port: 0).wait()
        self.channel.withLockedValue { $0 = channel }
    }

    var port: Int { channel.withLockedValue { $0!.localAddress!.port! } }
    var url: String { "http://127.0.0.1:\(port)" }
    /// Requests received so far.
    var count: Int { counter.withLockedValue { $0 } }
    /// Their paths, in arrival order.
    var receivedPaths: [String] { paths.withLockedValue { $0 } }
    /// Bytes of request bodies received so far.
    var bodyBytes: Int { bodyCounter.withLockedValue { $0 } }

    func shutdown() {
        try? channel.withLockedValue { $0 }?.close().wait()
        try? group.syncShutdownGracefully()
    }

    fileprivate func arrived(path: String) -> Int {
        paths.withLockedValue { $0.append(path) }
        return counter.withLockedValue { value in
            value += 1
            return value
        }
    }

    /// When a request arriving now may be answered.
    fileprivate func answerTime(now: NIODeadline) -> NIODeadline {
        var time = now + behaviour.latency
        if behaviour.stall > .zero {
            let since = (now - started).nanoseconds
            let phase = since % behaviour.period.nanoseconds
            if phase < behaviour.stall.nanoseconds { time = max(time, now + .nanoseconds(behaviour.stall.nanoseconds - phase)) }
        }
        return time
    }

    private final class Handler: ChannelInboundHandler {
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart
        let server: ScriptedServer
        var path = "/"

        init(server: ScriptedServer) { self.server = server }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head(let head): path = head.uri
            case .body(let bytes): server.bodyCounter.withLockedValue { $0 += bytes.readableBytes }
            case .end:
                let number = server.arrived(path: path)
                let behaviour = server.behaviour
                if behaviour.closeEvery > 0, number % behaviour.closeEvery == 0 {
                    context.close(promise: nil)
                    return
                }
                let status: HTTPResponseStatus = behaviour.failEvery > 0 && number % behaviour.failEvery == 0 ? .internalServerError : .ok
                let deadline = server.answerTime(now: .now())
                let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
                let respond = {
                    let context = bound.value
                    var headers = HTTPHeaders()
                    headers.add(name: "Content-Length", value: String(behaviour.body.utf8.count))
                    context.write(NIOAny(HTTPServerResponsePart.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers))), promise: nil)
                    context.write(NIOAny(HTTPServerResponsePart.body(.byteBuffer(ByteBuffer(string: behaviour.body)))), promise: nil)
                    context.writeAndFlush(NIOAny(HTTPServerResponsePart.end(nil)), promise: nil)
                }
                if deadline <= .now() { respond() } else {
                    context.eventLoop.assumeIsolated().scheduleTask(deadline: deadline) { respond() }
                }
            }
        }
    }
}
