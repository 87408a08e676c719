import KilnCore

/// `DIR/<model>/config.json`: which versions of a model are served and the labels that name
/// them, in the shape of TensorFlow Serving's model config:
///
/// ```json
/// {"model_version_policy": {"latest": {"num_versions": 2}},
///  "version_labels": {"stable": 1, "canary": 2}}
/// ```
/// `model_version_policy` is `{"latest": {"num_versions": N}}` (the default, N = 1),
/// `{"specific": {"versions": [1, 3]}}` or `{"all": {}}`.
public struct ModelConfig: Sendable, Equatable {
    public enum VersionPolicy: Sendable, Equatable {
        case latest(Int)
        case specific(Set<Int>)
        case all
    }

    public var versionPolicy = VersionPolicy.latest(1)
    /// Label → version number.
    public var versionLabels: [String: Int] = [:]

    public init() {}

    public init(json text: String) throws {
        var spec = try SpecObject(try JSONValue.parse(text), path: "config")
        if let policy = spec.value("model_version_policy") {
            var choice = try SpecObject(policy, path: "config.model_version_policy")
            guard choice.keys.count == 1 else {
                throw KilnError.invalidArgument("config.model_version_policy: give exactly one of latest, specific, all")
            }
            if let latest = choice.value("latest") {
                var fields = try SpecObject(latest, path: "config.model_version_policy.latest")
                versionPolicy = .latest(try fields.int("num_versions", minimum: 1) ?? 1)
                try fields.rejectUnknownFields()
            } else if let specific = choice.value("specific") {
                var fields = try SpecObject(specific, path: "config.model_version_policy.specific")
                guard let versions = try fields.doubles("versions"), !versions.isEmpty,
                      versions.allSatisfy({ $0 >= 1 && $0 == $0.rounded() }) else {
                    throw fields.error("versions", "expected a non-empty list of version numbers (1, 2, ...)")
                }
                versionPolicy = .specific(Set(versions.map { Int($0) }))
                try fields.rejectUnknownFields()
            } else if let all = choice.value("all") {
                try SpecObject(all, path: "config.model_version_policy.all").rejectUnknownFields()
                versionPolicy = .all
            }
            try choice.rejectUnknownFields()
        }
        if let labels = spec.value("version_labels") {
            var fields = try SpecObject(labels, path: "config.version_labels")
            for label in fields.keys {
                versionLabels[label] = try fields.int(label, minimum: 1)
            }
        }
        try spec.rejectUnknownFields()
    }

    /// The versions to serve among those on disk.
    public func selected(_ versions: [Int]) -> [Int] {
        switch versionPolicy {
        case .latest(let count): Array(versions.sorted().suffix(count))
        case .specific(let wanted): versions.filter(wanted.contains).sorted()
        case .all: versions.sorted()
        }
    }
}
