import COpenBLAS
import KilnCore
import KilnTabular

/// A full pass over training data, in progress: mergeable, with a compact binary form, so
/// that partial analyses of chunks (or of workers' shards) combine into the same graph as one
/// pass over everything. Batches are analysed one partial each and merged in order, so the
/// result never depends on the thread count.
public struct TransformAnalysis: Sendable {
    public static let magic = "kiln.transform_partial"
    public static let version: UInt32 = 1
    public let spec: TransformSpec
    /// The types of the columns the spec reads, fixed by the first batch.
    public private(set) var inputSchema: [Field]?
    public private(set) var rows = 0
    private(set) var analyzers: [FeatureAnalyzer]

    public init(spec: TransformSpec) { self.init(spec: spec, keepingValueIDs: false) }

    /// With `keepingValueIDs`, each added batch's vocabulary and text ids are kept (`ValueIDs`).
    init(spec: TransformSpec, keepingValueIDs: Bool) {
        self.spec = spec
        analyzers = spec.features.map { FeatureAnalyzer(feature: $0, keepingValueIDs: keepingValueIDs) }
    }

    /// Adds one batch (which must have every column the spec reads).
    public mutating func add(_ batch: Table) throws {
        let schema = try checkedSchema(of: batch)
        if let inputSchema, inputSchema != schema {
            throw KilnError.shapeMismatch("a batch's column types differ from the first batch's: \(describeFields(schema)) vs \(describeFields(inputSchema))")
        }
        inputSchema = schema
        for index in analyzers.indices { try analyzers[index].add(batch) }
        rows += batch.rowCount
    }

    private func checkedSchema(of batch: Table) throws -> [Field] {
        for feature in spec.features {
            for input in feature.typedInputs { _ = try batch.input(input.name, for: feature, kind: input.kind) }
        }
        return try spec.columnsRead.map { Field(name: $0, type: try batch.column($0).type) }
    }

    public mutating func merge(_ other: TransformAnalysis) throws { try merge([other]) }

    /// Merges several analyses in order: each feature's analyzer takes them one after the
    /// other, the features in parallel (they are independent, so the result is the same).
    /// Nothing changes when one of them does not fit.
    public mutating func merge(_ others: [TransformAnalysis]) throws { _ = try mergeReturningIDs(others) }

    /// As `merge(_:)`, returning for each of `others` and each feature the id each of its
    /// vocabulary values or text terms has in the merged analyzer (empty for other features).
    private mutating func mergeReturningIDs(_ others: [TransformAnalysis]) throws -> [[[Int32]]] {
        var schema = inputSchema
        for other in others {
            guard other.spec == spec else { throw KilnError.invalidArgument("cannot merge analyses of different specs") }
            if let theirs = other.inputSchema {
                if let schema, schema != theirs {
                    throw KilnError.shapeMismatch("cannot merge analyses of data with different column types")
                }
                schema = theirs
            }
        }
        inputSchema = schema
        let threads = min(Threads.count, analyzers.count)
        let features = analyzers.count
        var mergedIDs = [[Int32]](repeating: [], count: others.count * features)
        analyzers.withUnsafeMutableBufferPointer { analyzers in
            mergedIDs.withUnsafeMutableBufferPointer { mergedIDs in
                let analyzers = UncheckedSendable(analyzers)
                let mergedIDs = UncheckedSendable(mergedIDs)
                // Chunk c merges features c, c + threads, ...
                Parallel.forEachChunk(threads, threads: threads) { chunk, _ in
                    for index in stride(from: chunk, to: features, by: threads) {
                        for (position, other) in others.enumerated() {
                            mergedIDs.value[position * features + index] = analyzers.value[index].merge(other.analyzers[index])
                        }
                    }
                }
            }
        }
        rows += others.reduce(0) { $0 + $1.rows }
        return others.indices.map { Array(mergedIDs[$0 * features..<($0 + 1) * features]) }
    }

    // MARK: Streaming drivers

    /// Analyses every batch of a CSV reader: each batch gets its own partial analysis on the
    /// thread that parsed it, and the partials are merged in file order. `analyzed` sees each
    /// batch once its partial is merged, in file order.
    public mutating func add(reader: CSVReader, analyzed: (Table) throws -> Void = { _ in }) throws {
        try add(reader: reader, keepingValueIDs: { false }) { batch, _ in try analyzed(batch) }
    }

    /// As `add(reader:analyzed:)`; while `keepingValueIDs()` (asked before each group of
    /// batches), `analyzed` also gets each feature's `ValueIDs` for the batch (nil where none
    /// were kept).
    mutating func add(reader: CSVReader, keepingValueIDs: () -> Bool, analyzed: (Table, [ValueIDs?]) throws -> Void) throws {
        let spec = self.spec
        while true {
            let keeping = keepingValueIDs()
            guard let parts = try reader.nextGroup({ batch -> (TransformAnalysis, Table) in
                var partial = TransformAnalysis(spec: spec, keepingValueIDs: keeping)
                try partial.add(batch)
                partial.prepareForMerge()
                return (partial, batch)
            }) else { break }
            let mergedIDs = try mergeReturningIDs(parts.map(\.0))
            for ((partial, batch), mergedIDs) in zip(parts, mergedIDs) {
                let valueIDs = zip(partial.analyzers, mergedIDs).map { analyzer, mergedIDs in
                    analyzer.valueIDs.map { kept in
                        var ids = kept
                        ids.mergedIDs = mergedIDs
                        return ids
                    }
                }
                try analyzed(batch, valueIDs)
            }
        }
    }

    /// Work done on the partial's own thread so that merging it is cheap.
    mutating func prepareForMerge() {
        for index in analyzers.indices { analyzers[index].prepareForMerge() }
    }

    /// Analyses a whole CSV file, reading only the columns the spec needs.
    public static func analyze(spec: TransformSpec, csvPath: String, options: CSVOptions = CSVOptions()) throws -> TransformAnalysis {
        var options = options
        options.columns = spec.columnsRead
        let reader = try CSVReader(path: csvPath, options: options)
        var analysis = TransformAnalysis(spec: spec)
        try analysis.add(reader: reader)
        return analysis
    }

    /// Analyses an in-memory table (in batches of `batchRows`, as a file would be).
    public static func analyze(spec: TransformSpec, table: Table) throws -> TransformAnalysis {
        var analysis = TransformAnalysis(spec: spec)
        try analysis.add(table)
        return analysis
    }

    // MARK: Binary partials

    public func encoded() -> [UInt8] {
        var writer = BinaryWriter()
        writer.writeHeader(magic: Self.magic, version: Self.version)
        writer.write(JSONValue.object([("features", .array(spec.features.map { .object($0.specMembers) }))]).text)
        writer.write(rows)
        writer.write(inputSchema?.count ?? -1)
        for field in inputSchema ?? [] {
            writer.write(field.name)
            writer.write(field.type.rawValue)
        }
        for analyzer in analyzers { analyzer.encode(into: &writer) }
        return writer.bytes
    }

    public init(encoded bytes: [UInt8]) throws {
        var reader = BinaryReader(bytes, what: "partial transform analysis")
        try reader.readHeader(magic: Self.magic, version: Self.version)
        spec = try TransformSpec(jsonText: try reader.readString())
        rows = try reader.readInt()
        let fields = try reader.readInt()
        if fields >= 0 {
            inputSchema = try (0..<fields).map { _ in Field(name: try reader.readString(), type: try ColumnType(name: try reader.readString())) }
        }
        var analyzers: [FeatureAnalyzer] = []
        for feature in spec.features { analyzers.append(try FeatureAnalyzer.decode(feature: feature, from: &reader)) }
        self.analyzers = analyzers
        guard reader.isAtEnd else { throw KilnError.format("partial transform analysis has trailing bytes") }
    }

    public static func load(path: String) throws -> TransformAnalysis { try TransformAnalysis(encoded: try FileIO.read(path)) }
    public func save(path: String) throws { try FileIO.write(encoded(), to: path) }

    // MARK: Finishing

    /// The transform graph: constants computed from the accumulated statistics.
    public func finish() throws -> TransformGraph {
        guard let inputSchema else { throw KilnError.invalidArgument("the analysis saw no data (no batch was added)") }
        let features = try analyzers.map { analyzer in
            CompiledFeature(spec: analyzer.feature, constants: try Self.constants(analyzer, inputSchema))
        }
        return TransformGraph(inputSchema: inputSchema, rowsAnalyzed: rows, features: features)
    }

    private static func constants(_ analyzer: FeatureAnalyzer, _ schema: [Field]) throws -> FeatureConstants {
        let feature = analyzer.feature
        func empty() -> KilnError {
            KilnError.invalidArgument(
                "feature '\(feature.output)' (\(feature.opName)): column '\(feature.inputs[0])' has no values to analyze (all missing or not finite)")
        }
        var constants = FeatureConstants()
        switch feature.operation {
        case .scaleToZScore, .scaleTo01, .scaleByMinMax:
            guard let moments = analyzer.moments, moments.count > 0 else { throw empty() }
            constants.scale = .init(moments)
            for (key, value) in analyzer.perKey ?? [:] { constants.perKey[key] = .init(value) }
        case .bucketize(let buckets):
            guard let sketch = analyzer.quantiles, sketch.count > 0 else { throw empty() }
            // Edges at 0, 1/n, ..., 1; edges closer than 1e-8 to their predecessor are dropped
            // and the inner ones kept, as scikit-learn's KBinsDiscretizer(strategy="quantile").
            let edges = sketch.quantiles((0...buckets).map { Double($0) / Double(buckets) })
            var kept = [edges[0]]
            for index in 1..<edges.count where edges[index] - edges[index - 1] > 1e-8 { kept.append(edges[index]) }
            constants.boundaries = kept.count > 2 ? Array(kept[1..<(kept.count - 1)]) : []
        case .vocabulary(let options), .oneHot(let options):
            guard let sketch = analyzer.frequencies, sketch.total > 0 else { throw empty() }
            let top = sketch.top(options.topK ?? .max, minimumCount: options.frequencyThreshold)
            constants.vocabulary = top.map(\.value)
            constants.counts = top.map(\.count)
        case .bagOfWords(let options), .tfidf(let options):
            guard let terms = analyzer.terms, terms.documents > 0 else { throw empty() }
            let ids = terms.topTerms(options.vocabularySize)
            constants.vocabulary = ids.map { terms.table.key($0) }
            constants.counts = ids.map { terms.counts[$0] }
            constants.documents = terms.documents
            if case .tfidf = feature.operation {
                let n = Double(terms.documents)
                constants.idf = ids.map { id in
                    let df = Double(terms.documentFrequencies[id])
                    return options.smoothIDF ? log((1 + n) / (1 + df)) + 1 : log(n / df) + 1
                }
            }
        case .impute(let strategy, let fill):
            switch strategy {
            case .mean:
                guard let moments = analyzer.moments, moments.count > 0 else { throw empty() }
                constants.fill = .double(moments.mean)
            case .median:
                guard let sketch = analyzer.quantiles, let median = sketch.quantile(0.5) else { throw empty() }
                constants.fill = .double(median)
            case .mostFrequent:
                guard let sketch = analyzer.frequencies, sketch.total > 0 else { throw empty() }
                let top = sketch.top()
                let best = top[0].count
                let tied = top.prefix { $0.count == best }.map(\.value)
                let type = schema.first { $0.name == feature.inputs[0] }!.type
                constants.fill = try fillValue(type == .string ? tied.min()! : tied.min { Double($0)! < Double($1)! }!, type: type)
            case .constant:
                let type = schema.first { $0.name == feature.inputs[0] }!.type
                constants.fill = try constantFill(fill!, type: type, feature: feature)
            }
        case .pca(let components):
            guard let covariance = analyzer.covariance, covariance.count > 1 else { throw empty() }
            try principalComponents(covariance, components, &constants)
        case .applyBuckets, .applyVocabulary, .hashStrings, .hashedCross, .clip, .log1p: break
        }
        return constants
    }

    static func fillValue(_ text: String, type: ColumnType) throws -> JSONValue {
        switch type {
        case .string: return .string(text)
        case .int: return .int(Int(text)!)
        case .bool: return .bool(text == "true")
        case .float: return .double(Double(text)!)
        }
    }

    private static func constantFill(_ fill: JSONValue, type: ColumnType, feature: FeatureSpec) throws -> JSONValue {
        let fits: Bool = switch (type, fill) {
        case (.string, .string), (.bool, .bool), (.int, .int), (.float, .int), (.float, .double): true
        default: false
        }
        guard fits else {
            throw KilnError.shapeMismatch("feature '\(feature.output)': fill_value \(fill.text) does not fit column '\(feature.inputs[0])' of type \(type.rawValue)")
        }
        if type == .float, let value = fill.doubleValue { return .double(value) }
        return fill
    }

    /// Eigenvectors of the sample covariance (LAPACK dsyev), largest eigenvalue first, each
    /// signed so that its largest-magnitude entry is positive (scikit-learn's convention).
    private static func principalComponents(_ covariance: Covariance, _ count: Int, _ constants: inout FeatureConstants) throws {
        let d = covariance.dimensions
        var matrix = covariance.comoment.map { $0 / Double(covariance.count - 1) }
        var eigenvalues = [Double](repeating: 0, count: d)
        let status = LAPACKE_dsyev(LAPACK_ROW_MAJOR, CChar(UInt8(ascii: "V")), CChar(UInt8(ascii: "U")), Int32(d), &matrix, Int32(d), &eigenvalues)
        guard status == 0 else { throw KilnError(.internalError, "LAPACKE_dsyev failed with status \(status)") }
        var components: [[Double]] = []
        for rank in 0..<count {
            let column = d - 1 - rank
            var vector = (0..<d).map { matrix[$0 * d + column] }
            let largest = vector.indices.max { abs(vector[$0]) < abs(vector[$1]) }!
            if vector[largest] < 0 { vector = vector.map { -$0 } }
            components.append(vector)
        }
        constants.components = components
        constants.componentMean = covariance.mean
        constants.explainedVariance = (0..<count).map { eigenvalues[d - 1 - $0] }
    }
}

#if canImport(Glibc)
import Glibc
#endif
