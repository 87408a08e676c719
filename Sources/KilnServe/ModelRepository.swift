import KilnCore
import KilnNN
import KilnTransform
import NIOConcurrencyHelpers

#if canImport(Glibc)
import Glibc
#endif

/// A loaded model version with a pool of sessions (a session runs one request at a time; the
/// model is shared) and, with `config.json`, a dynamic batcher.
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
}

/// The models of a folder in TensorFlow Serving's layout: `DIR/<model name>/<version>/model.onnx`,
/// versions being positive integers; the highest version of each model is served (and any
/// version can be asked for by number).
public struct ModelRepository: Sendable {
    public let directory: String
    /// Model name → versions, highest last.
    public let models: [String: [ServedModel]]
    /// Seconds each version took to load (read, optimise, plan).
    public let loadSeconds: [(model: String, version: Int, seconds: Double)]

    public init(directory: String) throws {
        self.directory = directory
        var models: [String: [ServedModel]] = [:]
        var loadSeconds: [(model: String, version: Int, seconds: Double)] = []
        for name in try Self.entries(directory) {
            var versions: [ServedModel] = []
            for entry in try Self.entries("\(directory)/\(name)") {
                guard let version = Int(entry), version > 0 else { continue }
                let path = "\(directory)/\(name)/\(entry)/model.onnx"
                guard access(path, R_OK) == 0 else { continue }
                let folder = "\(directory)/\(name)/\(entry)"
                var start = timespec()
                clock_gettime(CLOCK_MONOTONIC, &start)
                defer {
                    var end = timespec()
                    clock_gettime(CLOCK_MONOTONIC, &end)
                    loadSeconds.append((name, version, Double(end.tv_sec - start.tv_sec) + Double(end.tv_nsec - start.tv_nsec) / 1e9))
                }
                do {
                    let transform = access("\(folder)/transform.json", R_OK) == 0 ? try TransformGraph.load(path: "\(folder)/transform.json") : nil
                    let labels = access("\(folder)/labels.txt", R_OK) == 0
                        ? String(decoding: try FileIO.read("\(folder)/labels.txt"), as: UTF8.self)
                            .split(whereSeparator: { $0 == "\n" || $0 == "\r\n" })
                            .map { String($0.drop { $0 == " " }.reversed().drop { $0 == " " || $0 == "\r" }.reversed()) }
                            .filter { !$0.isEmpty }
                        : nil
                    let preprocess = access("\(folder)/preprocess.json", R_OK) == 0
                        ? try ImagePreprocess(json: String(decoding: try FileIO.read("\(folder)/preprocess.json"), as: UTF8.self)) : nil
                    let batching = access("\(folder)/config.json", R_OK) == 0
                        ? try BatchingConfig(json: String(decoding: try FileIO.read("\(folder)/config.json"), as: UTF8.self)) : nil
                    versions.append(ServedModel(name: name, version: version, model: try Model(contentsOf: path), transform: transform,
                                                labels: labels, preprocess: preprocess, batching: batching))
                } catch let error as KilnError {
                    throw KilnError(error.code, "model '\(name)' version \(version): \(error.message)")
                }
            }
            if !versions.isEmpty { models[name] = versions.sorted { $0.version < $1.version } }
        }
        guard !models.isEmpty else {
            throw KilnError(.notFound, "no models in \(directory) (expected \(directory)/<model name>/<version>/model.onnx)")
        }
        self.models = models
        self.loadSeconds = loadSeconds
    }

    /// The model asked for: a version number, or the latest.
    public func model(_ name: String, version: Int? = nil) throws -> ServedModel {
        guard let versions = models[name] else {
            throw KilnError(.notFound, "no model '\(name)'; serving \(models.keys.sorted().map { "'\($0)'" }.joined(separator: ", "))")
        }
        guard let version else { return versions.last! }
        guard let match = versions.first(where: { $0.version == version }) else {
            throw KilnError(.notFound, "model '\(name)' has no version \(version); versions: \(versions.map { String($0.version) }.joined(separator: ", "))")
        }
        return match
    }

    static func entries(_ path: String) throws -> [String] {
        guard let folder = opendir(path) else { throw KilnError.io("cannot open folder \(path): \(String(cString: strerror(errno)))") }
        defer { closedir(folder) }
        var names: [String] = []
        while let entry = readdir(folder) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in String(cString: raw.bindMemory(to: CChar.self).baseAddress!) }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted()
    }
}
