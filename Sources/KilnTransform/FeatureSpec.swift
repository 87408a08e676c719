import KilnCore
import KilnTabular

/// How text becomes tokens for `bag_of_words`, `ngrams` and `tfidf`, as scikit-learn's
/// `CountVectorizer` by default: lowercase (ASCII), tokens are runs of two or more word
/// characters (letters, digits, `_`, and any non-ASCII byte), n-grams join tokens with a space.
public struct TextOptions: Sendable, Equatable {
    public var vocabularySize: Int?
    public var ngramRange: ClosedRange<Int> = 1...1
    public var binary = false
    public var lowercase = true
    /// tf-idf only, as `TfidfVectorizer`: smooth idf, raw term counts, L2 row norm.
    public var smoothIDF = true
    public var sublinearTF = false
    public var norm: Norm = .l2

    public enum Norm: String, Sendable { case l1, l2, none }

    public init() {}
}

/// Imputation of missing values.
public enum ImputeStrategy: String, Sendable, CaseIterable {
    case mean, median
    case mostFrequent = "most_frequent"
    case constant
}

/// Vocabulary settings, as TF Transform's `compute_and_apply_vocabulary`.
public struct VocabularyOptions: Sendable, Equatable {
    public var topK: Int?
    public var frequencyThreshold = 1
    public var oovBuckets = 0
    public var defaultValue: Int64 = -1

    public init() {}
}

/// What one output feature computes.
public enum FeatureOperation: Sendable, Equatable {
    case scaleToZScore(perKey: String?)
    case scaleTo01(perKey: String?)
    case scaleByMinMax(low: Double, high: Double, perKey: String?)
    case bucketize(buckets: Int)
    case applyBuckets(boundaries: [Double])
    case vocabulary(VocabularyOptions)
    case applyVocabulary([String], VocabularyOptions)
    case oneHot(VocabularyOptions)
    case hashStrings(buckets: Int)
    case hashedCross(buckets: Int)
    case bagOfWords(TextOptions)
    case tfidf(TextOptions)
    case impute(ImputeStrategy, fill: JSONValue?)
    case clip(low: Double?, high: Double?)
    case log1p
    case pca(components: Int)

    /// The op names of the spec, one per case (`ngrams` is `bag_of_words` with 1–2-grams).
    public static let names = [
        "scale_to_z_score", "scale_to_0_1", "scale_by_min_max", "scale_to_z_score_per_key", "scale_to_0_1_per_key",
        "scale_by_min_max_per_key", "bucketize", "apply_buckets", "compute_and_apply_vocabulary", "apply_vocabulary",
        "one_hot", "hash_strings", "hashed_cross", "bag_of_words", "ngrams", "tfidf", "impute", "clip", "log1p", "pca",
    ]
}

/// One output feature: an operation on input columns.
public struct FeatureSpec: Sendable, Equatable {
    public var output: String
    public var inputs: [String]
    public var operation: FeatureOperation
    /// The op name as written in the spec.
    public var opName: String

    public init(output: String, opName: String, inputs: [String], operation: FeatureOperation) {
        self.output = output
        self.opName = opName
        self.inputs = inputs
        self.operation = operation
    }

    /// The columns the feature reads (its inputs and, for `_per_key` ops, the key).
    public var columnsRead: [String] {
        switch operation {
        case .scaleToZScore(let key?), .scaleTo01(let key?), .scaleByMinMax(_, _, let key?): inputs + [key]
        default: inputs
        }
    }
}

/// A transform spec: the list of output features, from JSON
/// (`{"features": [{"output": ..., "op": ..., "input": ..., parameters...}]}`).
public struct TransformSpec: Sendable, Equatable {
    public var features: [FeatureSpec]

    public init(features: [FeatureSpec]) throws {
        guard !features.isEmpty else { throw KilnError.invalidArgument("a transform spec needs at least one feature") }
        var seen = Set<String>()
        for feature in features where !seen.insert(feature.output).inserted {
            throw KilnError.invalidArgument("two features are called '\(feature.output)'")
        }
        self.features = features
    }

    public init(json: JSONValue) throws {
        var root = try SpecObject(json, path: "spec")
        guard let list = root.value("features")?.arrayValue else {
            throw KilnError.invalidArgument("spec.features: is required (an array of features)")
        }
        try root.rejectUnknownFields(["format"])
        try self.init(features: try list.enumerated().map { index, value in
            var object = try SpecObject(value, path: "features[\(index)]")
            let feature = try FeatureSpec.parse(&object)
            try object.rejectUnknownFields(FeatureSpec.analysisFields)
            return feature
        })
    }

    public init(jsonText: String) throws { try self.init(json: try JSONValue.parse(jsonText)) }

    /// Every column any feature reads, in first-use order.
    public var columnsRead: [String] {
        var seen = Set<String>()
        return features.flatMap(\.columnsRead).filter { seen.insert($0).inserted }
    }
}

extension FeatureSpec {
    /// Fields a transform graph adds to a feature (results of the analysis), ignored when a
    /// graph's features are read back as a spec.
    static let analysisFields: Set<String> = [
        "mean", "std", "min", "max", "boundaries", "vocabulary", "counts", "idf", "documents", "fill", "components",
        "explained_variance", "per_key", "width", "type", "type_in",
    ]

    static func parse(_ object: inout SpecObject) throws -> FeatureSpec {
        let output = try object.requiredString("output")
        let opName = try object.requiredString("op")
        var inputs: [String]
        if let single = try object.string("input") {
            inputs = [single]
        } else if let many = try object.strings("inputs"), !many.isEmpty {
            inputs = many
        } else {
            throw object.error("input", "is required (a column name; `inputs` for several)")
        }
        let key = try object.string("key")
        func perKey() throws -> String {
            guard let key else { throw object.error("key", "is required for \(opName) (the column whose values group the rows)") }
            return key
        }
        func vocabularyOptions() throws -> VocabularyOptions {
            var options = VocabularyOptions()
            options.topK = try object.int("top_k", minimum: 1)
            options.frequencyThreshold = try object.int("frequency_threshold", minimum: 1) ?? 1
            options.oovBuckets = try object.int("num_oov_buckets", minimum: 0) ?? 0
            options.defaultValue = Int64(try object.int("default_value") ?? -1)
            return options
        }
        func textOptions(ngrams: ClosedRange<Int>, tfidf: Bool) throws -> TextOptions {
            var options = TextOptions()
            options.vocabularySize = try object.int("vocab_size", minimum: 1)
            if let range = try object.doubles("ngram_range") {
                guard range.count == 2, let low = Int(exactly: range[0]), let high = Int(exactly: range[1]), low >= 1, high >= low, high <= 8
                else { throw object.error("ngram_range", "expected [low, high] with 1 ≤ low ≤ high ≤ 8") }
                options.ngramRange = low...high
            } else {
                options.ngramRange = ngrams
            }
            options.binary = try object.bool("binary") ?? false
            options.lowercase = try object.bool("lowercase") ?? true
            if tfidf {
                options.smoothIDF = try object.bool("smooth_idf") ?? true
                options.sublinearTF = try object.bool("sublinear_tf") ?? false
                if let norm = try object.string("norm") {
                    guard let parsed = TextOptions.Norm(rawValue: norm) else {
                        throw object.error("norm", "expected \"l1\", \"l2\" or \"none\", got \"\(norm)\"")
                    }
                    options.norm = parsed
                }
            } else {
                options.norm = .none
            }
            return options
        }
        func hashBuckets() throws -> Int {
            guard let buckets = try object.int("hash_buckets", minimum: 1) else {
                throw object.error("hash_buckets", "is required (a positive integer)")
            }
            return buckets
        }

        let operation: FeatureOperation
        switch opName {
        case "scale_to_z_score": operation = .scaleToZScore(perKey: nil)
        case "scale_to_z_score_per_key": operation = .scaleToZScore(perKey: try perKey())
        case "scale_to_0_1": operation = .scaleTo01(perKey: nil)
        case "scale_to_0_1_per_key": operation = .scaleTo01(perKey: try perKey())
        case "scale_by_min_max", "scale_by_min_max_per_key":
            let low = try object.double("output_min") ?? 0
            let high = try object.double("output_max") ?? 1
            guard low < high else { throw object.error("output_min", "must be below output_max") }
            operation = .scaleByMinMax(low: low, high: high, perKey: opName.hasSuffix("_per_key") ? try perKey() : nil)
        case "bucketize":
            guard let buckets = try object.int("num_buckets", minimum: 2) else {
                throw object.error("num_buckets", "is required (an integer of at least 2)")
            }
            operation = .bucketize(buckets: buckets)
        case "apply_buckets":
            guard let boundaries = try object.doubles("boundaries"), !boundaries.isEmpty else {
                throw object.error("boundaries", "is required (an ascending array of numbers)")
            }
            guard zip(boundaries, boundaries.dropFirst()).allSatisfy({ $0 < $1 }), boundaries.allSatisfy(\.isFinite) else {
                throw object.error("boundaries", "must be finite and strictly ascending")
            }
            operation = .applyBuckets(boundaries: boundaries)
        case "compute_and_apply_vocabulary": operation = .vocabulary(try vocabularyOptions())
        case "apply_vocabulary":
            guard let vocabulary = try object.strings("vocabulary") else {
                throw object.error("vocabulary", "is required (an array of strings)")
            }
            guard Set(vocabulary).count == vocabulary.count else { throw object.error("vocabulary", "has duplicates") }
            operation = .applyVocabulary(vocabulary, try vocabularyOptions())
        case "one_hot": operation = .oneHot(try vocabularyOptions())
        case "hash_strings": operation = .hashStrings(buckets: try hashBuckets())
        case "hashed_cross":
            guard inputs.count >= 2 else { throw object.error("inputs", "hashed_cross needs at least two columns") }
            operation = .hashedCross(buckets: try hashBuckets())
        case "bag_of_words": operation = .bagOfWords(try textOptions(ngrams: 1...1, tfidf: false))
        case "ngrams": operation = .bagOfWords(try textOptions(ngrams: 1...2, tfidf: false))
        case "tfidf": operation = .tfidf(try textOptions(ngrams: 1...1, tfidf: true))
        case "impute":
            let name = try object.string("strategy") ?? "mean"
            guard let strategy = ImputeStrategy(rawValue: name) else {
                throw object.error("strategy", "expected one of \(ImputeStrategy.allCases.map(\.rawValue).joined(separator: ", ")), got \"\(name)\"")
            }
            let fill = object.value("fill_value")
            if strategy == .constant && fill == nil { throw object.error("fill_value", "is required for strategy \"constant\"") }
            operation = .impute(strategy, fill: fill)
        case "clip":
            let low = try object.double("min")
            let high = try object.double("max")
            guard low != nil || high != nil else { throw object.error("min", "clip needs min, max or both") }
            if let low, let high, low > high { throw object.error("min", "must not exceed max") }
            operation = .clip(low: low, high: high)
        case "log1p": operation = .log1p
        case "pca":
            guard let components = try object.int("n_components", minimum: 1) else {
                throw object.error("n_components", "is required (a positive integer)")
            }
            guard components <= inputs.count else {
                throw object.error("n_components", "must not exceed the number of inputs (\(inputs.count))")
            }
            operation = .pca(components: components)
        default:
            throw object.error("op", "unknown operation \"\(opName)\" (known: \(FeatureOperation.names.joined(separator: ", ")))")
        }
        switch operation {
        case .pca, .hashedCross: break
        default:
            guard inputs.count == 1 else { throw object.error("inputs", "\(opName) takes one input column") }
        }
        if key != nil, !opName.hasSuffix("_per_key") { throw object.error("key", "only the _per_key ops take a key") }
        return FeatureSpec(output: output, opName: opName, inputs: inputs, operation: operation)
    }
}

extension FeatureSpec {
    /// The feature as spec JSON members (what `parse` reads back).
    var specMembers: [(String, JSONValue)] {
        var members: [(String, JSONValue)] = [("output", .string(output)), ("op", .string(opName))]
        if inputs.count == 1, !(operation.isMultiInput) {
            members.append(("input", .string(inputs[0])))
        } else {
            members.append(("inputs", .array(inputs.map { .string($0) })))
        }
        func vocabulary(_ options: VocabularyOptions) {
            if let topK = options.topK { members.append(("top_k", .int(topK))) }
            members.append(("frequency_threshold", .int(options.frequencyThreshold)))
            members.append(("num_oov_buckets", .int(options.oovBuckets)))
            members.append(("default_value", .int(Int(options.defaultValue))))
        }
        func text(_ options: TextOptions, tfidf: Bool) {
            if let size = options.vocabularySize { members.append(("vocab_size", .int(size))) }
            members.append(("ngram_range", [.int(options.ngramRange.lowerBound), .int(options.ngramRange.upperBound)]))
            members.append(("binary", .bool(options.binary)))
            members.append(("lowercase", .bool(options.lowercase)))
            if tfidf {
                members.append(("smooth_idf", .bool(options.smoothIDF)))
                members.append(("sublinear_tf", .bool(options.sublinearTF)))
                members.append(("norm", .string(options.norm.rawValue)))
            }
        }
        switch operation {
        case .scaleToZScore(let key), .scaleTo01(let key):
            if let key { members.append(("key", .string(key))) }
        case .scaleByMinMax(let low, let high, let key):
            if let key { members.append(("key", .string(key))) }
            members.append(("output_min", .double(low)))
            members.append(("output_max", .double(high)))
        case .bucketize(let buckets): members.append(("num_buckets", .int(buckets)))
        case .applyBuckets(let boundaries): members.append(("boundaries", .array(boundaries.map { .double($0) })))
        case .vocabulary(let options), .oneHot(let options): vocabulary(options)
        case .applyVocabulary(let words, let options):
            members.append(("vocabulary", .array(words.map { .string($0) })))
            vocabulary(options)
        case .hashStrings(let buckets), .hashedCross(let buckets): members.append(("hash_buckets", .int(buckets)))
        case .bagOfWords(let options): text(options, tfidf: false)
        case .tfidf(let options): text(options, tfidf: true)
        case .impute(let strategy, let fill):
            members.append(("strategy", .string(strategy.rawValue)))
            if let fill { members.append(("fill_value", fill)) }
        case .clip(let low, let high):
            if let low { members.append(("min", .double(low))) }
            if let high { members.append(("max", .double(high))) }
        case .log1p: break
        case .pca(let components): members.append(("n_components", .int(components)))
        }
        return members
    }
}

extension FeatureOperation {
    var isMultiInput: Bool {
        switch self {
        case .pca, .hashedCross: true
        default: false
        }
    }
}
