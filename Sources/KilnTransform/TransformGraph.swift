import KilnCore
import KilnTabular

/// What the analysis computed for one feature.
struct FeatureConstants: Sendable {
    struct Scale: Sendable, Equatable {
        var mean = 0.0, std = 0.0, min = 0.0, max = 0.0
        init() {}
        init(_ moments: Moments) {
            mean = moments.mean
            std = moments.standardDeviation
            min = moments.min
            max = moments.max
        }
    }
    var scale = Scale()
    var perKey: [String: Scale] = [:]
    var boundaries: [Double] = []
    var vocabulary: [String] = []
    var counts: [Int] = []
    var idf: [Double] = []
    var documents = 0
    var fill: JSONValue = .null
    var components: [[Double]] = []
    var componentMean: [Double] = []
    var explainedVariance: [Double] = []
}

/// The output a feature produces: one column, or `width` values per row (multi-valued).
public struct OutputField: Sendable, Equatable {
    public var name: String
    public var type: ColumnType
    /// 1 for a single column; the number of values per row for one-hot, bag-of-words, tf-idf
    /// and PCA outputs, which the CSV writer expands to `name_0 … name_{width-1}`.
    public var width: Int
    public var isMultiValued: Bool
}

/// A feature ready to apply: its spec, its constants and lookup tables built from them.
struct CompiledFeature: Sendable {
    let spec: FeatureSpec
    let constants: FeatureConstants
    let lookup: ByteStringTable?

    init(spec: FeatureSpec, constants: FeatureConstants) {
        self.spec = spec
        self.constants = constants
        let words: [String]? = switch spec.operation {
        case .vocabulary, .oneHot, .bagOfWords, .tfidf: constants.vocabulary
        case .applyVocabulary(let words, _): words
        default: nil
        }
        lookup = words.map { words in
            var table = ByteStringTable()
            for word in words { table.insert(word) }
            return table
        }
    }
}

/// The artifact of an analysis: the input schema, every computed constant and vocabulary, and
/// the output schema, as versioned JSON (`"format": "kiln.transform_graph/1"`). Applying it to
/// a batch or to one instance gives identical results. Immutable and shareable across threads.
public struct TransformGraph: Sendable {
    public static let format = "kiln.transform_graph/1"
    public let inputSchema: [Field]
    public let rowsAnalyzed: Int
    let features: [CompiledFeature]

    init(inputSchema: [Field], rowsAnalyzed: Int, features: [CompiledFeature]) {
        self.inputSchema = inputSchema
        self.rowsAnalyzed = rowsAnalyzed
        self.features = features
    }

    public var spec: TransformSpec { try! TransformSpec(features: features.map(\.spec)) }

    public var outputSchema: [OutputField] { features.map(outputField) }

    /// What one feature produces: its name, type and width.
    func outputField(_ feature: CompiledFeature) -> OutputField {
        let name = feature.spec.output
        let constants = feature.constants
        switch feature.spec.operation {
        case .scaleToZScore, .scaleTo01, .scaleByMinMax, .clip, .log1p:
            return OutputField(name: name, type: .float, width: 1, isMultiValued: false)
        case .bucketize, .applyBuckets, .vocabulary, .applyVocabulary, .hashStrings, .hashedCross:
            return OutputField(name: name, type: .int, width: 1, isMultiValued: false)
        case .oneHot(let options):
            return OutputField(name: name, type: .float, width: constants.vocabulary.count + options.oovBuckets, isMultiValued: true)
        case .bagOfWords, .tfidf:
            return OutputField(name: name, type: .float, width: constants.vocabulary.count, isMultiValued: true)
        case .pca(let components):
            return OutputField(name: name, type: .float, width: components, isMultiValued: true)
        case .impute(let strategy, _):
            let input = inputSchema.first { $0.name == feature.spec.inputs[0] }?.type ?? .float
            let type: ColumnType = strategy == .mean || strategy == .median ? .float : input
            return OutputField(name: name, type: type, width: 1, isMultiValued: false)
        }
    }

    // MARK: JSON

    public var json: JSONValue {
        let outputs = outputSchema
        return .object([
            ("format", .string(Self.format)),
            ("rows_analyzed", .int(rowsAnalyzed)),
            ("input_schema", .array(inputSchema.map { .object([("name", .string($0.name)), ("type", .string($0.type.rawValue))]) })),
            ("features", .array(zip(features, outputs).map { feature, output in
                .object(feature.spec.specMembers + Self.constantMembers(feature) + [("type", .string(output.type.rawValue)), ("width", .int(output.width))])
            })),
            ("output_schema", .array(outputs.map { output in
                .object([("name", .string(output.name)), ("type", .string(output.type.rawValue)), ("width", .int(output.width)),
                         ("multi_valued", .bool(output.isMultiValued))])
            })),
        ])
    }

    private static func numbers(_ values: [Double]) -> JSONValue { .array(values.map { .double($0) }) }

    private static func constantMembers(_ feature: CompiledFeature) -> [(String, JSONValue)] {
        let constants = feature.constants
        func scale(_ scale: FeatureConstants.Scale) -> [(String, JSONValue)] {
            [("mean", .double(scale.mean)), ("std", .double(scale.std)), ("min", .double(scale.min)), ("max", .double(scale.max))]
        }
        switch feature.spec.operation {
        case .scaleToZScore(let key), .scaleTo01(let key), .scaleByMinMax(_, _, let key):
            var members = scale(constants.scale)
            if key != nil {
                members.append(("per_key", .object(constants.perKey.keys.sorted().map { ($0, .object(scale(constants.perKey[$0]!))) })))
            }
            return members
        case .bucketize: return [("boundaries", numbers(constants.boundaries))]
        case .vocabulary, .oneHot, .bagOfWords:
            return [("vocabulary", .array(constants.vocabulary.map { .string($0) })), ("counts", .array(constants.counts.map { .int($0) }))]
        case .tfidf:
            return [("vocabulary", .array(constants.vocabulary.map { .string($0) })), ("counts", .array(constants.counts.map { .int($0) })),
                    ("idf", numbers(constants.idf)), ("documents", .int(constants.documents))]
        case .impute: return [("fill", constants.fill)]
        case .pca:
            return [("mean", numbers(constants.componentMean)), ("components", .array(constants.components.map(numbers))),
                    ("explained_variance", numbers(constants.explainedVariance))]
        case .applyBuckets, .applyVocabulary, .hashStrings, .hashedCross, .clip, .log1p: return []
        }
    }

    public init(json: JSONValue) throws {
        var root = try SpecObject(json, path: "graph")
        let format = try root.requiredString("format")
        guard format.hasPrefix("kiln.transform_graph/") else {
            throw KilnError.format("not a transform graph (format is \"\(format)\", expected \"\(Self.format)\")")
        }
        guard format == Self.format else {
            throw KilnError.unsupported("transform graph format \"\(format)\" is newer than this Kiln reads (\"\(Self.format)\")")
        }
        rowsAnalyzed = try root.int("rows_analyzed", minimum: 0) ?? 0
        guard let schema = root.value("input_schema")?.arrayValue else { throw root.error("input_schema", "is required") }
        inputSchema = try schema.enumerated().map { index, value in
            var field = try SpecObject(value, path: "graph.input_schema[\(index)]")
            let parsed = Field(name: try field.requiredString("name"), type: try ColumnType(name: try field.requiredString("type")))
            try field.rejectUnknownFields()
            return parsed
        }
        guard let list = root.value("features")?.arrayValue else { throw root.error("features", "is required") }
        _ = root.value("output_schema")
        try root.rejectUnknownFields()
        features = try list.enumerated().map { index, value in
            var object = try SpecObject(value, path: "graph.features[\(index)]")
            let spec = try FeatureSpec.parse(&object)
            let constants = try Self.readConstants(&object, spec)
            _ = object.value("type")
            _ = object.value("width")
            try object.rejectUnknownFields()
            return CompiledFeature(spec: spec, constants: constants)
        }
        _ = try TransformSpec(features: features.map(\.spec))
    }

    public init(jsonText: String) throws { try self.init(json: try JSONValue.parse(jsonText)) }

    public static func load(path: String) throws -> TransformGraph {
        try TransformGraph(json: try JSONValue.parse(try FileIO.read(path)))
    }

    public func save(path: String) throws { try FileIO.write(Array((json.text + "\n").utf8), to: path) }

    private static func readConstants(_ object: inout SpecObject, _ spec: FeatureSpec) throws -> FeatureConstants {
        var constants = FeatureConstants()
        let path = object.path
        func required<T>(_ value: T?, _ field: String) throws -> T {
            guard let value else { throw KilnError.invalidArgument("\(path).\(field): is required in a transform graph") }
            return value
        }
        func scale(_ object: inout SpecObject) throws -> FeatureConstants.Scale {
            var scale = FeatureConstants.Scale()
            scale.mean = try required(try object.double("mean"), "mean")
            scale.std = try required(try object.double("std"), "std")
            scale.min = try required(try object.double("min"), "min")
            scale.max = try required(try object.double("max"), "max")
            return scale
        }
        switch spec.operation {
        case .scaleToZScore(let key), .scaleTo01(let key), .scaleByMinMax(_, _, let key):
            constants.scale = try scale(&object)
            if key != nil {
                let members = try required(object.value("per_key")?.objectMembers, "per_key")
                for (name, value) in members {
                    var inner = try SpecObject(value, path: "\(object.path).per_key.\(name)")
                    constants.perKey[name] = try scale(&inner)
                    try inner.rejectUnknownFields()
                }
            }
        case .bucketize(let buckets):
            constants.boundaries = try required(try object.doubles("boundaries"), "boundaries")
            guard constants.boundaries.count < buckets, zip(constants.boundaries, constants.boundaries.dropFirst()).allSatisfy({ $0 < $1 })
            else { throw object.error("boundaries", "must be ascending, fewer than num_buckets") }
        case .vocabulary, .oneHot, .bagOfWords, .tfidf:
            constants.vocabulary = try required(try object.strings("vocabulary"), "vocabulary")
            constants.counts = (try object.doubles("counts") ?? []).map { Int($0) }
            guard Set(constants.vocabulary).count == constants.vocabulary.count else { throw object.error("vocabulary", "has duplicates") }
            if case .tfidf = spec.operation {
                constants.idf = try required(try object.doubles("idf"), "idf")
                constants.documents = try object.int("documents", minimum: 0) ?? 0
                guard constants.idf.count == constants.vocabulary.count else {
                    throw object.error("idf", "needs one value per vocabulary entry")
                }
            }
        case .impute:
            constants.fill = try required(object.value("fill"), "fill")
        case .pca(let components):
            constants.componentMean = try required(try object.doubles("mean"), "mean")
            let rows = try required(object.value("components")?.arrayValue, "components")
            constants.components = try rows.enumerated().map { index, row in
                guard let values = row.arrayValue?.compactMap(\.doubleValue), values.count == spec.inputs.count else {
                    throw object.error("components[\(index)]", "expected \(spec.inputs.count) numbers")
                }
                return values
            }
            constants.explainedVariance = try object.doubles("explained_variance") ?? []
            guard constants.components.count == components, constants.componentMean.count == spec.inputs.count else {
                throw object.error("components", "expected \(components) rows and a mean per input")
            }
        case .applyBuckets, .applyVocabulary, .hashStrings, .hashedCross, .clip, .log1p: break
        }
        return constants
    }
}
