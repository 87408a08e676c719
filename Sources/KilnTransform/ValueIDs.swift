import KilnCore
import KilnTabular

/// The ids a batch's values got in its partial analysis — a vocabulary's values, or a text's
/// terms — kept with the batch when it is transformed right after being analysed
/// (`analyzeAndApply`): applying the graph then maps each id to its output instead of finding
/// the value in the vocabulary again (or tokenizing the text again). Ids are 16-bit: a batch
/// with more distinct values keeps none, and is transformed the ordinary way.
struct ValueIDs: Sendable {
    static let missing = UInt16.max
    /// One per row (a categorical value; `missing` when missing) or, for text, one per term.
    private(set) var ids: [UInt16] = []
    /// Text: where each row's terms start in `ids` (rows + 1 entries); empty otherwise.
    private(set) var rowStarts: [Int32] = []
    /// Id in the batch's partial analyzer → id in the merged one; set when the partial is merged.
    var mergedIDs: [Int32] = []
    private var overflowed = false

    init(rows: Int, terms: Bool = false) {
        ids.reserveCapacity(rows)
        if terms {
            rowStarts.reserveCapacity(rows + 1)
            rowStarts.append(0)
        }
    }

    /// Whether an analyzer for `operation` keeps its values' ids.
    static func areKept(for operation: FeatureOperation) -> Bool {
        switch operation {
        case .vocabulary, .oneHot, .bagOfWords, .tfidf: true
        default: false
        }
    }

    @inline(__always)
    mutating func append(_ id: Int) {
        if id < Int(Self.missing) { ids.append(UInt16(truncatingIfNeeded: id)) } else { overflowed = true }
    }

    @inline(__always)
    mutating func appendMissing() { ids.append(Self.missing) }

    @inline(__always)
    mutating func endRow() {
        if ids.count > Int(Int32.max) { overflowed = true }
        rowStarts.append(Int32(truncatingIfNeeded: ids.count))
    }

    /// These ids, or nil when one did not fit.
    var kept: ValueIDs? { overflowed ? nil : self }

    var byteCount: Int { ids.count * 2 + rowStarts.count * 4 + mergedIDs.count * 4 }
}

/// A graph feature's output for each value a kept analyzer merged: a vocabulary index or a hash
/// bucket (one value per row), or a term's index in the vocabulary, −1 when not in it (text).
struct IDOutputs: Sendable {
    /// The feature whose analyzer identified the values (the feature itself, or a vocabulary of
    /// the same column for `hash_strings` and `apply_vocabulary`).
    let source: Int
    /// Merged id → output.
    let outputs: [Int64]
    /// The output for a missing value.
    let missing: Int64

    /// The output of each id of `batch` (by its id in the batch's partial analyzer).
    func outputs(of batch: ValueIDs) -> [Int64] {
        outputs.withUnsafeBufferPointer { outputs in batch.mergedIDs.map { outputs[Int($0)] } }
    }

    /// The output of each row of `batch` (one value per row).
    func rowOutputs(of batch: ValueIDs) -> [Int64] {
        let local = outputs(of: batch)
        return local.withUnsafeBufferPointer { local in
            batch.ids.map { $0 == ValueIDs.missing ? missing : local[Int($0)] }
        }
    }
}

extension TransformSpec {
    /// The feature whose kept ids serve the features mapping column `column`'s values: its
    /// first `vocabulary` or `one_hot`.
    func vocabularySource(of column: String) -> Int? {
        features.firstIndex { feature in
            switch feature.operation {
            case .vocabulary, .oneHot: feature.inputs[0] == column
            default: false
            }
        }
    }

    /// The feature whose kept ids can serve feature `index` (itself for text), or nil when its
    /// operation is not one that kept ids serve.
    func idSource(of index: Int) -> Int? {
        let feature = features[index]
        switch feature.operation {
        case .vocabulary, .oneHot, .applyVocabulary, .hashStrings: return vocabularySource(of: feature.inputs[0])
        case .bagOfWords, .tfidf: return index
        default: return nil
        }
    }

    /// The features that read column `name`.
    func readers(of name: String) -> [Int] {
        features.indices.filter { features[$0].columnsRead.contains(name) }
    }

    /// The string columns of `batch` that transforming it needs no more once `valueIDs` (its
    /// analysis's) are kept: each feature reading one reads only it, and is served by kept ids.
    func columnsServed(by valueIDs: [ValueIDs?], in batch: Table) -> Set<String> {
        Set(batch.columns.filter { column in
            column.type == .string && readers(of: column.name).allSatisfy { reader in
                features[reader].columnsRead == [column.name] && idSource(of: reader).map { valueIDs[$0] != nil } == true
            }
        }.map(\.name))
    }
}

extension TransformAnalysis {
    /// For each of `graph`'s features that kept ids can serve, its output for every merged id;
    /// nil for the others, and for all whose analyzer is not exact (a frequency sketch past its
    /// capacity renumbers its values).
    func idOutputs(for graph: TransformGraph) -> [IDOutputs?] {
        let types = Dictionary(uniqueKeysWithValues: (inputSchema ?? []).map { ($0.name, $0.type) })
        /// The table whose ids feature `source` kept, if they are still valid.
        func keptTable(_ source: Int) -> ByteStringTable? {
            let analyzer = analyzers[source]
            var table = analyzer.terms?.table
            if let frequencies = analyzer.frequencies {
                guard types[analyzer.feature.inputs[0]] == .string && frequencies.isExact else { return nil }
                table = frequencies.table
            }
            guard let table, table.count <= Int(Int32.max) else { return nil }
            return table
        }
        return graph.features.enumerated().map { index, feature -> IDOutputs? in
            guard let source = spec.idSource(of: index), let table = keptTable(source) else { return nil }
            func outputs(missing: Int64, _ output: (UnsafeBufferPointer<UInt8>) -> Int64) -> IDOutputs {
                var outputs = [Int64](repeating: 0, count: table.count)
                table.forEachKey { id, key, _ in outputs[id] = output(key) }
                return IDOutputs(source: source, outputs: outputs, missing: missing)
            }
            switch feature.spec.operation {
            case .vocabulary(let options), .oneHot(let options), .applyVocabulary(_, let options):
                return feature.lookup!.withFinder { lookup in
                    outputs(missing: TransformGraph.vocabularyIndex(nil, options, lookup)) { TransformGraph.vocabularyIndex($0, options, lookup) }
                }
            case .hashStrings(let buckets):
                return outputs(missing: TransformGraph.hashBucket(nil, buckets)) { TransformGraph.hashBucket($0, buckets) }
            case .bagOfWords, .tfidf:
                return feature.lookup!.withFinder { lookup in outputs(missing: -1) { lookup.find($0).map(Int64.init) ?? -1 } }
            default:
                return nil
            }
        }
    }
}

extension TransformGraph {
    /// Transforms a batch just analysed, with the ids its analysis gave its values and each
    /// feature's outputs for them (`TransformAnalysis.idOutputs`): the features they serve map
    /// ids instead of finding values, so the batch may lack the columns only those read. The
    /// same result as `apply(_:)` on the whole batch, of `rows` rows.
    func apply(_ batch: Table, rows: Int, valueIDs: [ValueIDs?], idOutputs: [IDOutputs?]) throws -> TransformedTable {
        let conformed = try conform(batch, skippingAbsent: true)
        let outputs = try features.indices.map { index in
            if let outputs = idOutputs[index], let ids = valueIDs[outputs.source],
               let output = try apply(features[index], ids, outputs, rows: rows) {
                return output
            }
            return try apply(features[index], conformed)
        }
        return TransformedTable(outputs: outputs, rowCount: rows)
    }

    /// `feature`'s output from kept ids, or nil if its operation is not one they serve.
    private func apply(_ feature: CompiledFeature, _ ids: ValueIDs, _ outputs: IDOutputs, rows: Int) throws -> OutputColumn? {
        switch feature.spec.operation {
        case .vocabulary, .applyVocabulary, .hashStrings:
            return .single(try Column(name: feature.spec.output, values: .int(outputs.rowOutputs(of: ids))))
        case .oneHot(let options):
            let indices = outputs.rowOutputs(of: ids)
            return .multi(indices.withUnsafeBufferPointer { indices in oneHot(feature, options, rows) { indices[$0] } })
        case .bagOfWords(let options), .tfidf(let options):
            let vocabularyIndex = outputs.outputs(of: ids)
            return .multi(ids.rowStarts.withUnsafeBufferPointer { starts in
                ids.ids.withUnsafeBufferPointer { ids in
                    vocabularyIndex.withUnsafeBufferPointer { vocabularyIndex in
                        termVector(feature, rows, options) { row, counted in
                            for position in Int(starts[row])..<Int(starts[row + 1]) {
                                let index = vocabularyIndex[Int(ids[position])]
                                if index >= 0 { counted(Int(index)) }
                            }
                        }
                    }
                }
            })
        default:
            return nil
        }
    }
}
