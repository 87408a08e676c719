import Hummingbird
import KilnCore
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

#if canImport(Glibc)
import Glibc
#endif

/// Where and how `kiln serve` listens, and what it serves.
public struct ServerOptions: Sendable {
    /// The model repository, `DIR/<model>/<version>/model.onnx`.
    public var modelDirectory: String
    public var host = "127.0.0.1"
    public var port = 8501
    /// Larger request bodies get 413.
    public var maximumBodyBytes = 64 << 20
    /// Seconds between scans of the model folder for new versions; 0 scans only on an admin
    /// reload request.
    public var pollSeconds = 2.0
    /// The bearer token of the admin endpoints (reload, unload); nil turns them off.
    public var adminToken: String?
    /// A request not answered within this many seconds gets 504 (or, when its body has not
    /// arrived, its connection is closed); connections idle this long are closed.
    public var requestTimeoutSeconds = 30.0

    public init(modelDirectory: String) { self.modelDirectory = modelDirectory }
}

/// TensorFlow Serving's REST API over a model repository kept in step with its folder.
public enum KilnServer {
    /// Listens at once and loads the models in the background (requests get 503 until their model
    /// is in service), rescans the folder every `pollSeconds`, and runs until SIGTERM or SIGINT,
    /// which stop accepting connections and finish the requests in flight. `log` gets one line
    /// per event: listening, each version loaded, unloaded or failed, and "serving ... on URL"
    /// once the first scan is done.
    public static func run(options: ServerOptions, log: @escaping @Sendable (String) -> Void) async throws {
        let metrics = ServerMetrics()
        let repository = try ModelRepository(directory: options.modelDirectory) { served in
            let name = served.name
            served.batcher?.observer.withLockedValue { $0 = { size in metrics.recordBatch(model: name, size: size) } }
        }
        let loader = ModelLoader(repository: repository, log: log)
        let background = NIOLockedValueBox<Task<Void, Never>?>(nil)
        let application = Application(
            router: router(repository: repository, loader: loader, metrics: metrics, options: options),
            server: .http1(configuration: .init(idleTimeout: .nanoseconds(Int64(options.requestTimeoutSeconds * 1e9)))),
            configuration: .init(address: .hostname(options.host, port: options.port), serverName: "kiln"),
            onServerRunning: { channel in
                let url = "http://\(options.host):\(channel.localAddress?.port ?? options.port)"
                log("listening on \(url); loading the models of \(options.modelDirectory)")
                background.withLockedValue {
                    $0 = Task {
                        _ = try? await loader.scan()
                        let served = repository.available.sorted { $0.key < $1.key }
                            .map { "\($0.key) (version \($0.value.map { String($0.version) }.joined(separator: ", ")))" }
                        log("serving \(served.isEmpty ? "no model yet" : served.joined(separator: ", ")) on \(url)")
                        guard options.pollSeconds > 0 else { return }
                        while !Task.isCancelled {
                            try? await Task.sleep(nanoseconds: UInt64(options.pollSeconds * 1e9))
                            if !Task.isCancelled { _ = try? await loader.scan() }
                        }
                    }
                }
            })
        defer { background.withLockedValue { $0 }?.cancel() }
        do {
            try await application.runService()
        } catch let error as IOError {
            throw KilnError.io("cannot listen on \(options.host):\(options.port): \(String(cString: strerror(error.errnoCode)))")
        }
        try await loader.shutdown()
    }
}

/// Runs the repository's scans and unloads one at a time on a thread of their own, so that
/// loading a model never holds up requests, and logs what changed.
final class ModelLoader: Sendable {
    let repository: ModelRepository
    private let log: @Sendable (String) -> Void
    private let thread = NIOThreadPool(numberOfThreads: 1)

    init(repository: ModelRepository, log: @escaping @Sendable (String) -> Void) {
        self.repository = repository
        self.log = log
        thread.start()
    }

    /// A scan (`force`: failed versions tried again, admin unloads lifted); its events logged.
    func scan(force: Bool = false) async throws -> [ScanEvent] {
        let events = try await thread.runIfActive { [repository] in repository.scan(force: force) }
        for event in events { log(event.isFailure ? "error: \(event)" : "\(event)") }
        return events
    }

    func unload(_ name: String, version: Int) async throws {
        try await thread.runIfActive { [repository] in try repository.unload(name, version: version) }
        log("unloaded \(name) version \(version) (admin request)")
    }

    func shutdown() async throws { try await thread.shutdownGracefully() }
}
