import KilnCore
import NIOConcurrencyHelpers

#if canImport(Glibc)
import Glibc
#endif

/// The models of a folder in TensorFlow Serving's layout, `DIR/<model>/<version>/model.onnx`
/// (versions are positive integers), kept in step with the folder: each `scan` loads the versions
/// the model's policy (`DIR/<model>/config.json`) selects and that are not served yet — load,
/// warm up, then put into service at once — and retires the versions no longer selected once
/// every selected one is available. A version that fails to load is reported and what was
/// served keeps serving. Requests hold the version they run on, so a retired version is freed
/// after its last in-flight request.
///
/// Scans are not thread-safe with each other: run them one at a time (`KilnServer` runs them on
/// one loader thread); lookups and status are safe from any thread at any time.
public final class ModelRepository: Sendable {
    public enum VersionState: Sendable {
        case loading
        case available(ServedModel)
        /// Failed to load (the message says why), with the file stamp it failed on: a changed
        /// `model.onnx` is tried again at the next scan.
        case failed(String, stamp: FileStamp?)
        /// Retired (by the policy, a removed folder or an unload request).
        case end
    }

    struct ModelRecord {
        var versions: [Int: VersionState] = [:]
        var config = ModelConfig()
        /// Versions an admin unloaded, not loaded again until a forced scan.
        var unloaded: Set<Int> = []
    }

    struct State {
        var models: [String: ModelRecord] = [:]
        var scanned = false
        var loadSeconds: [String: [Int: Double]] = [:]
        var loadFailures: [String: Int] = [:]
    }

    public let directory: String
    private let state = NIOLockedValueBox(State())
    /// Called with each model version put into service (the server wires batchers to metrics).
    private let onLoad: @Sendable (ServedModel) -> Void

    /// A repository over `directory`, which must be a readable folder; nothing is loaded until
    /// the first `scan`.
    public init(directory: String, onLoad: @escaping @Sendable (ServedModel) -> Void = { _ in }) throws {
        _ = try Self.entries(directory)
        self.directory = directory
        self.onLoad = onLoad
    }

    // MARK: Scanning

    /// Brings the served versions in line with the folder and returns what changed, one line per
    /// event ("loaded m version 2 in 0.01 s", "failed to load m version 3: ...", "unloaded m
    /// version 1"). `force` tries failed versions again and lifts admin unloads.
    @discardableResult
    public func scan(force: Bool = false) -> [ScanEvent] {
        var events: [ScanEvent] = []
        let names = ((try? Self.entries(directory)) ?? []).filter { !$0.hasPrefix(".") && Self.isFolder("\(directory)/\($0)") }
        for name in names { scanModel(name, force: force, events: &events) }
        state.withLockedValue { state in
            for (name, record) in state.models where !names.contains(name) {
                for (version, current) in record.versions {
                    if case .available = current {
                        state.models[name]!.versions[version] = .end
                        events.append(.unloaded(model: name, version: version))
                    }
                }
            }
            state.scanned = true
        }
        return events
    }

    private func scanModel(_ name: String, force: Bool, events: inout [ScanEvent]) {
        let folder = "\(directory)/\(name)"
        var config = ModelConfig()
        if access("\(folder)/config.json", R_OK) == 0 {
            do {
                config = try ModelConfig(json: String(decoding: try FileIO.read("\(folder)/config.json"), as: UTF8.self))
            } catch {
                config = state.withLockedValue { $0.models[name]?.config } ?? config
                events.append(.failed(model: name, version: nil, message: "\(folder)/config.json: \(Self.message(error)); keeping the previous policy"))
            }
        }
        let onDisk = ((try? Self.entries(folder)) ?? []).compactMap { entry -> Int? in
            guard let version = Int(entry), version > 0, String(version) == entry, access("\(folder)/\(entry)/model.onnx", R_OK) == 0 else { return nil }
            return version
        }
        let record = state.withLockedValue { state in
            if force { state.models[name, default: ModelRecord()].unloaded = [] }
            state.models[name, default: ModelRecord()].config = config
            return state.models[name]!
        }
        let wanted = config.selected(onDisk).filter { !record.unloaded.contains($0) }
        for version in wanted {
            let stamp = FileStamp(path: "\(folder)/\(version)/model.onnx")
            switch record.versions[version] {
            case .available: continue
            case .failed(_, let failedStamp) where !force && failedStamp == stamp: continue
            default: break
            }
            state.withLockedValue { $0.models[name]!.versions[version] = .loading }
            let start = ContinuousClock.now
            do {
                let served = try ServedModel.load(name: name, version: version, folder: "\(folder)/\(version)")
                let seconds = Self.seconds(ContinuousClock.now - start)
                onLoad(served)
                state.withLockedValue { state in
                    state.models[name]!.versions[version] = .available(served)
                    state.loadSeconds[name, default: [:]][version] = seconds
                }
                events.append(.loaded(model: name, version: version, seconds: seconds))
            } catch {
                let message = Self.message(error)
                state.withLockedValue { state in
                    state.models[name]!.versions[version] = .failed(message, stamp: stamp)
                    state.loadFailures[name, default: 0] += 1
                }
                events.append(.failed(model: name, version: version, message: message))
            }
        }
        state.withLockedValue { state in
            let versions = state.models[name]!.versions
            let allAvailable = wanted.allSatisfy { if case .available = versions[$0] { true } else { false } }
            for (version, current) in versions where !wanted.contains(version) {
                guard case .available = current else { continue }
                // Keep serving until what replaces it is available (an unload request or a
                // removed folder retires it regardless).
                let gone = !onDisk.contains(version) || state.models[name]!.unloaded.contains(version)
                guard allAvailable || gone else { continue }
                state.models[name]!.versions[version] = .end
                events.append(.unloaded(model: name, version: version))
            }
        }
    }

    /// Takes a version out of service until a forced scan.
    public func unload(_ name: String, version: Int) throws {
        try state.withLockedValue { state in
            guard let record = state.models[name] else { throw KilnError(.notFound, "no model '\(name)'") }
            guard case .available = record.versions[version] else {
                throw KilnError(.notFound, "model '\(name)' version \(version) is not being served")
            }
            state.models[name]!.versions[version] = .end
            state.models[name]!.unloaded.insert(version)
        }
    }

    // MARK: Lookups

    /// The version a request asked for (by number, by label, or the latest available); 404 for
    /// unknown names, versions and labels, 503 while it is loading.
    public func model(_ name: String, version: Int? = nil, label: String? = nil) throws -> ServedModel {
        let snapshot = state.withLockedValue { $0 }
        guard let record = snapshot.models[name], record.versions.values.contains(where: { if case .end = $0 { false } else { true } }) else {
            if !snapshot.scanned { throw ServeError(.serviceUnavailable, "the server is loading its models; retry shortly") }
            let names = snapshot.models.filter { $0.value.versions.values.contains { if case .available = $0 { true } else { false } } }.keys.sorted()
            throw KilnError(.notFound, "no model '\(name)'; serving \(names.map { "'\($0)'" }.joined(separator: ", "))")
        }
        if let wanted = try label.map({ try self.version(name, label: $0) }) ?? version {
            switch record.versions[wanted] {
            case .available(let served): return served
            case .loading: throw ServeError(.serviceUnavailable, "model '\(name)' version \(wanted) is loading; retry shortly")
            case .failed(let message, _): throw ServeError(.serviceUnavailable, "model '\(name)' version \(wanted) failed to load: \(message)")
            case .end, nil:
                let available = record.versions.compactMap { if case .available = $1 { $0 } else { nil } }.sorted()
                throw KilnError(.notFound, "model '\(name)' has no version \(wanted) in service; versions: \(available.map(String.init).joined(separator: ", "))")
            }
        }
        if let latest = record.versions.compactMap({ version, current -> (Int, ServedModel)? in
            if case .available(let served) = current { (version, served) } else { nil }
        }).max(by: { $0.0 < $1.0 }) {
            return latest.1
        }
        if record.versions.values.contains(where: { if case .loading = $0 { true } else { false } }) {
            throw ServeError(.serviceUnavailable, "model '\(name)' is loading; retry shortly")
        }
        throw ServeError(.serviceUnavailable, "no version of model '\(name)' is available: \(failures(record).joined(separator: "; "))")
    }

    /// The version a label of the model's `config.json` names.
    public func version(_ name: String, label: String) throws -> Int {
        let labels = state.withLockedValue { $0.models[name]?.config.versionLabels } ?? [:]
        guard let version = labels[label] else {
            throw KilnError(.notFound, "model '\(name)' has no label '\(label)'" + (labels.isEmpty ? "" : "; labels: \(labels.keys.sorted().joined(separator: ", "))"))
        }
        return version
    }

    private func failures(_ record: ModelRecord) -> [String] {
        record.versions.sorted { $0.key < $1.key }.compactMap { version, current in
            if case .failed(let message, _) = current { "version \(version) failed to load: \(message)" } else { nil }
        }
    }

    /// Model names that have versions (in any state).
    public var modelNames: [String] {
        state.withLockedValue { $0.models.filter { !$0.value.versions.isEmpty }.keys.sorted() }
    }

    /// The versions of a model, highest first, with their states.
    public func versions(_ name: String) throws -> [(version: Int, state: VersionState)] {
        let snapshot = state.withLockedValue { $0 }
        guard let record = snapshot.models[name], !record.versions.isEmpty else {
            if !snapshot.scanned { throw ServeError(.serviceUnavailable, "the server is loading its models; retry shortly") }
            throw KilnError(.notFound, "no model '\(name)'")
        }
        return record.versions.sorted { $0.key > $1.key }.map { ($0.key, $0.value) }
    }

    /// The versions in service, by model.
    public var available: [String: [ServedModel]] {
        state.withLockedValue { state in
            state.models.compactMapValues { record in
                let served = record.versions.sorted { $0.key < $1.key }.compactMap { if case .available(let model) = $0.value { model } else { nil } }
                return served.isEmpty ? nil : served
            }
        }
    }

    /// Ready: the first scan is done and every model has a version in service. Else the reasons.
    public var readiness: (ready: Bool, problems: [String]) {
        let snapshot = state.withLockedValue { $0 }
        guard snapshot.scanned else { return (false, ["loading models"]) }
        var problems: [String] = []
        for (name, record) in snapshot.models.sorted(by: { $0.key < $1.key }) where !record.versions.isEmpty {
            let serving = record.versions.values.contains { if case .available = $0 { true } else { false } }
            if !serving { problems.append("model '\(name)' has no version in service" + failures(record).map { "; \($0)" }.joined()) }
        }
        if snapshot.models.values.allSatisfy({ $0.versions.isEmpty }) {
            problems.append("no models in \(directory) (expected \(directory)/<model>/<version>/model.onnx)")
        }
        return (problems.isEmpty, problems)
    }

    /// Load seconds of the versions in service, and failed loads, by model (for the metrics).
    var loadFigures: (seconds: [String: [Int: Double]], failures: [String: Int]) {
        state.withLockedValue { state in
            var seconds: [String: [Int: Double]] = [:]
            for (name, record) in state.models {
                for (version, current) in record.versions {
                    if case .available = current, let value = state.loadSeconds[name]?[version] { seconds[name, default: [:]][version] = value }
                }
            }
            return (seconds, state.loadFailures)
        }
    }

    // MARK: Files

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

    static func isFolder(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
    }

    static func message(_ error: Error) -> String {
        (error as? KilnError)?.message ?? "\(error)"
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}

/// What a scan changed.
public enum ScanEvent: Sendable, Equatable, CustomStringConvertible {
    case loaded(model: String, version: Int, seconds: Double)
    case unloaded(model: String, version: Int)
    /// A version (or, without one, the model's `config.json`) that could not be loaded.
    case failed(model: String, version: Int?, message: String)

    public var description: String {
        switch self {
        case .loaded(let model, let version, let seconds):
            "loaded \(model) version \(version) in \((seconds * 1000).rounded() / 1000) s"
        case .unloaded(let model, let version): "unloaded \(model) version \(version)"
        case .failed(let model, let version?, let message): "failed to load \(model) version \(version): \(message)"
        case .failed(let model, nil, let message): "model \(model): \(message)"
        }
    }

    public var isFailure: Bool { if case .failed = self { true } else { false } }
}

/// A file's modification time and size: enough to notice that it was replaced.
public struct FileStamp: Sendable, Equatable {
    let seconds: Int
    let nanoseconds: Int
    let size: Int

    init?(path: String) {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        seconds = info.st_mtim.tv_sec
        nanoseconds = info.st_mtim.tv_nsec
        size = Int(info.st_size)
    }
}
