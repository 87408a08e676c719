import KilnCore
import KilnNN
import KilnTransform
import NIOConcurrencyHelpers

#if canImport(Glibc)
import Glibc
#endif

/// A loaded model version with a pool of sessions (a session runs one request at a time; the
/// model is shared) and, with `config.json`, a dynamic batcher. Requests hold a reference while
/// they run, so a version taken out of service is freed only after its last request.
public final class ServedModel: Sendable {
    public let name: String
    public let version: Int
    public let model: Model
    /// The transform graph applied to raw feature records before the model (`transform.json`).
    public let transform: TransformGraph?
    /// Class names for `:classify` (`labels.txt`, one per line, in output order).
    public let labels: [String]?
    /// How image requests become the model's input (`preprocess.json`).
    public let preprocess: ImagePreprocess?
    /// Dynamic batching (`config.json`), when configured.
    public let batching: BatchingConfig?
    let batcher: Batcher?
    private let sessions: SessionPool

    init(name: String, version: Int, model: Model, transform: TransformGraph? = nil, labels: [String]? = nil,
         preprocess: ImagePreprocess? = nil, batching: BatchingConfig? = nil) {
        self.preprocess = preprocess
        self.batching = batching
        let sessions = SessionPool(model: model)
        self.sessions = sessions
        batcher = batching.map { config in Batcher(config: config) { inputs in try sessions.run(inputs) } }
        self.name = name
        self.version = version
        self.model = model
        self.transform = transform
        self.labels = labels
    }

    /// Loads the version in `folder` (`model.onnx` and the optional `transform.json`,
    /// `labels.txt`, `preprocess.json`, `config.json`) and warms it up: one run on zeros, which
    /// plans the memory and leaves a ready session in the pool.
    static func load(name: String, version: Int, folder: String) throws -> ServedModel {
        func text(_ file: String) throws -> String? {
            access("\(folder)/\(file)", R_OK) == 0 ? String(decoding: try FileIO.read("\(folder)/\(file)"), as: UTF8.self) : nil
        }
        let transform = access("\(folder)/transform.json", R_OK) == 0 ? try TransformGraph.load(path: "\(folder)/transform.json") : nil
        let labels = try text("labels.txt")?
            .split(whereSeparator: { $0 == "\n" || $0 == "\r\n" })
            .map { String($0.drop { $0 == " " }.reversed().drop { $0 == " " || $0 == "\r" }.reversed()) }
            .filter { !$0.isEmpty }
        let preprocess = try text("preprocess.json").map { try ImagePreprocess(json: $0) }
        let batching = try text("config.json").map { try BatchingConfig(json: $0) }
        let served = ServedModel(name: name, version: version, model: try Model(contentsOf: "\(folder)/model.onnx"),
                                 transform: transform, labels: labels, preprocess: preprocess, batching: batching)
        try served.sessions.warmUp()
        return served
    }

    /// Runs the model: through the batcher when batching is configured, else at once.
    public func infer(_ inputs: [String: Tensor]) async throws -> [String: Tensor] {
        if let batcher { return try await batcher.submit(inputs) }
        return try sessions.run(inputs)
    }
}

/// Sessions of one model, reused across requests. Unchecked: a session leaves the locked pool
/// for exactly one run.
final class SessionPool: @unchecked Sendable {
    private let model: Model
    private let sessions = NIOLockedValueBox<[Session]>([])

    init(model: Model) { self.model = model }

    /// Runs the model on a session taken from the pool (or a new one), returned afterwards.
    func run(_ inputs: [String: Tensor]) throws -> [String: Tensor] {
        let session = try sessions.withLockedValue { $0.popLast() } ?? Session(model: model, options: SessionOptions(threads: nil))
        defer { sessions.withLockedValue { $0.append(session) } }
        return try session.run(inputs)
    }

    /// One run on zeros of one instance (symbolic dimensions set to 1).
    func warmUp() throws {
        var inputs: [String: Tensor] = [:]
        for info in model.inputs {
            let shape = info.shape.map { dimension -> Int in
                if case .fixed(let size) = dimension { return size }
                return 1
            }
            inputs[info.name] = try Tensor(zeros: shape, dtype: info.dtype)
        }
        _ = try run(inputs)
    }
}
