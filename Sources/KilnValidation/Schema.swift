import KilnCore
import KilnTabular

/// How two distributions of a feature are compared for drift (a new span against the previous
/// one) or skew (serving against training), and the threshold above which that is an anomaly.
public struct Comparator: Sendable, Equatable {
    public enum Kind: String, Sendable, CaseIterable {
        /// Categorical: max over values of |p(value) − q(value)|.
        case lInfinity = "l_infinity"
        /// Numeric: Jensen–Shannon divergence (log base 2, in [0, 1]) on the baseline's deciles.
        case jensenShannon = "jensen_shannon"
        /// Numeric: population stability index on the baseline's deciles.
        case populationStability = "psi"
        /// Numeric: largest difference between the two cumulative distributions.
        case kolmogorovSmirnov = "ks"
        /// Numeric: Wasserstein-1 (earth mover's) distance.
        case wasserstein = "wasserstein"
    }

    public var kind: Kind
    public var threshold: Double

    public init(kind: Kind, threshold: Double) {
        self.kind = kind
        self.threshold = threshold
    }

    var json: JSONValue { .object([("type", .string(kind.rawValue)), ("threshold", .double(threshold))]) }

    init(json: JSONValue, path: String) throws {
        var reader = try SpecObject(json, path: path)
        try reader.rejectUnknownFields(known: ["type", "threshold"])
        let name = try reader.requiredString("type")
        guard let kind = Kind(rawValue: name) else {
            throw reader.error("type", "unknown comparator \"\(name)\" (known: \(Kind.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        guard let threshold = try reader.double("threshold"), threshold >= 0 else {
            throw reader.error("threshold", "is required (a non-negative number)")
        }
        self.init(kind: kind, threshold: threshold)
    }
}

/// What a feature must look like: versioned JSON (`kiln.schema/1`) that people edit by hand.
public struct FeatureSchema: Sendable, Equatable {
    public var name: String
    public var type: ColumnType
    /// The smallest fraction of rows that must have a value (1: required).
    public var minimumFraction: Double = 0
    /// The smallest number of rows that must have a value.
    public var minimumCount: Int = 1
    /// The allowed values of a categorical string feature (nil: any).
    public var domain: [String]? = nil
    /// The allowed range of a numeric feature (nil: any).
    public var range: ClosedRange<Double>? = nil
    public var allowNaN = false
    public var allowInfinity = false
    /// Environments the feature is absent from (e.g. a label in "SERVING").
    public var notInEnvironments: [String] = []
    public var driftComparator: Comparator? = nil
    public var skewComparator: Comparator? = nil

    public init(name: String, type: ColumnType) {
        self.name = name
        self.type = type
    }

    var json: JSONValue {
        var members: [(String, JSONValue)] = [
            ("name", .string(name)), ("type", .string(type.rawValue)),
            ("presence", .object([("min_fraction", .double(minimumFraction)), ("min_count", .int(minimumCount))])),
        ]
        if let domain { members.append(("domain", .array(domain.map { .string($0) }))) }
        if let range { members.append(("range", .object([("min", .double(range.lowerBound)), ("max", .double(range.upperBound))]))) }
        if type != .string && type != .bool {
            members.append(("allow_nan", .bool(allowNaN)))
            members.append(("allow_infinity", .bool(allowInfinity)))
        }
        if !notInEnvironments.isEmpty { members.append(("not_in_environment", .array(notInEnvironments.map { .string($0) }))) }
        if let driftComparator { members.append(("drift_comparator", driftComparator.json)) }
        if let skewComparator { members.append(("skew_comparator", skewComparator.json)) }
        return .object(members)
    }

    init(json: JSONValue, path: String) throws {
        var reader = try SpecObject(json, path: path)
        try reader.rejectUnknownFields(known: [
            "name", "type", "presence", "domain", "range", "allow_nan", "allow_infinity", "not_in_environment",
            "drift_comparator", "skew_comparator",
        ])
        self.init(name: try reader.requiredString("name"), type: try ColumnType(name: try reader.requiredString("type")))
        if let presence = reader.value("presence") {
            var inner = try SpecObject(presence, path: "\(path).presence")
            try inner.rejectUnknownFields(known: ["min_fraction", "min_count"])
            minimumFraction = try inner.double("min_fraction") ?? 0
            minimumCount = try inner.int("min_count") ?? 0
            guard (0...1).contains(minimumFraction), minimumCount >= 0 else {
                throw inner.error("min_fraction", "must be in [0, 1] (and min_count non-negative)")
            }
        }
        domain = try reader.strings("domain")
        if let range = reader.value("range") {
            var inner = try SpecObject(range, path: "\(path).range")
            try inner.rejectUnknownFields(known: ["min", "max"])
            let low = try inner.double("min") ?? -.infinity
            let high = try inner.double("max") ?? .infinity
            guard low <= high else { throw inner.error("min", "must not exceed max") }
            self.range = low...high
        }
        allowNaN = try reader.bool("allow_nan") ?? false
        allowInfinity = try reader.bool("allow_infinity") ?? false
        notInEnvironments = try reader.strings("not_in_environment") ?? []
        driftComparator = try reader.value("drift_comparator").map { try Comparator(json: $0, path: "\(path).drift_comparator") }
        skewComparator = try reader.value("skew_comparator").map { try Comparator(json: $0, path: "\(path).skew_comparator") }
    }
}

public struct Schema: Sendable, Equatable {
    public static let format = "kiln.schema/1"
    public var features: [FeatureSchema]
    /// The environments features are in unless they say otherwise (e.g. TRAINING, SERVING).
    public var defaultEnvironments: [String] = []
    public var minimumExamples = 1
    public var maximumExamples: Int? = nil

    public init(features: [FeatureSchema]) { self.features = features }

    public func feature(_ name: String) -> FeatureSchema? { features.first { $0.name == name } }

    public var json: JSONValue {
        var dataset: [(String, JSONValue)] = [("min_examples", .int(minimumExamples))]
        if let maximumExamples { dataset.append(("max_examples", .int(maximumExamples))) }
        return .object([
            ("format", .string(Self.format)),
            ("default_environments", .array(defaultEnvironments.map { .string($0) })),
            ("dataset", .object(dataset)),
            ("features", .array(features.map(\.json))),
        ])
    }

    public init(json: JSONValue) throws {
        var reader = try SpecObject(json, path: "schema")
        let format = try reader.requiredString("format")
        guard format.hasPrefix("kiln.schema/") else {
            throw KilnError.format("not a schema (format is \"\(format)\", expected \"\(Self.format)\")")
        }
        guard format == Self.format else { throw KilnError.unsupported("schema format \"\(format)\" is newer than this Kiln reads (\"\(Self.format)\")") }
        try reader.rejectUnknownFields(known: ["format", "default_environments", "dataset", "features"])
        guard let list = reader.value("features")?.arrayValue else { throw reader.error("features", "is required") }
        features = try list.enumerated().map { try FeatureSchema(json: $1, path: "schema.features[\($0)]") }
        var seen = Set<String>()
        for feature in features where !seen.insert(feature.name).inserted {
            throw KilnError.invalidArgument("schema: feature '\(feature.name)' appears twice")
        }
        defaultEnvironments = try reader.strings("default_environments") ?? []
        if let dataset = reader.value("dataset") {
            var inner = try SpecObject(dataset, path: "schema.dataset")
            try inner.rejectUnknownFields(known: ["min_examples", "max_examples"])
            minimumExamples = try inner.int("min_examples") ?? 0
            maximumExamples = try inner.int("max_examples")
        }
    }

    public static func load(path: String) throws -> Schema {
        do {
            return try Schema(json: try JSONValue.parse(try FileIO.read(path)))
        } catch let error as KilnError where error.code != .io {
            throw KilnError(error.code, "\(path): \(error.message)")
        }
    }

    public func save(path: String) throws { try FileIO.write(Array((json.pretty + "\n").utf8), to: path) }
}

/// Options of schema inference.
public struct SchemaInferenceOptions: Sendable {
    /// String features with at most this many distinct values, each seen on average at least
    /// twice, get a domain of their values.
    public var maximumDomainSize = 50
    /// Also record numeric ranges (min and max seen).
    public var inferRanges = false
    /// Features absent from the serving data (labels): `not_in_environment: ["SERVING"]`.
    public var notInServing: [String] = []
    public var categoricalThreshold = 0.1
    public var numericThreshold = 0.1

    public init() {}
}

extension Schema {
    /// A schema inferred from statistics: types; required when never missing (else at least one
    /// value); domains for low-cardinality strings; numeric ranges when asked; NaN/infinity
    /// allowed only when seen; L-infinity 0.1 drift/skew comparators for strings and
    /// Jensen–Shannon 0.1 for numbers.
    public static func infer(from statistics: StatisticsSummary, options: SchemaInferenceOptions = SchemaInferenceOptions()) throws -> Schema {
        let unknown = options.notInServing.filter { statistics.feature($0) == nil }
        guard unknown.isEmpty else {
            throw KilnError(.notFound, "no feature \(unknown.map { "'\($0)'" }.joined(separator: ", ")) in the statistics")
        }
        var schema = Schema(features: statistics.features.map { feature in
            var inferred = FeatureSchema(name: feature.name, type: feature.type)
            inferred.minimumFraction = feature.missing == 0 && feature.present > 0 ? 1 : 0
            inferred.minimumCount = 1
            if feature.type == .string {
                if let values = feature.values, values.count <= options.maximumDomainSize, feature.present >= 2 * values.count {
                    inferred.domain = values.map(\.value).sorted()
                }
                let comparator = Comparator(kind: .lInfinity, threshold: options.categoricalThreshold)
                inferred.driftComparator = comparator
                inferred.skewComparator = comparator
            } else if feature.type == .bool {
                let comparator = Comparator(kind: .lInfinity, threshold: options.categoricalThreshold)
                inferred.driftComparator = comparator
                inferred.skewComparator = comparator
            } else {
                if options.inferRanges, let low = feature.min, let high = feature.max { inferred.range = low...high }
                inferred.allowNaN = feature.nanCount > 0
                inferred.allowInfinity = feature.infinityCount > 0
                let comparator = Comparator(kind: .jensenShannon, threshold: options.numericThreshold)
                inferred.driftComparator = comparator
                inferred.skewComparator = comparator
            }
            if options.notInServing.contains(feature.name) { inferred.notInEnvironments = ["SERVING"] }
            return inferred
        })
        if !options.notInServing.isEmpty { schema.defaultEnvironments = ["TRAINING", "SERVING"] }
        return schema
    }
}
