import KilnCore
import KilnTabular

/// The full-pass statistics one feature needs, accumulated batch by batch and mergeable.
/// Analyzers skip missing values, and numeric ones also skip NaN and ±infinity.
struct FeatureAnalyzer: Sendable {
    let feature: FeatureSpec
    var moments: Moments? = nil
    var quantiles: QuantileSketch? = nil
    var frequencies: FrequencySketch? = nil
    var terms: TermStatistics? = nil
    var covariance: Covariance? = nil
    var perKey: [String: Moments]? = nil
    /// Whether `add` keeps the ids its values get (a vocabulary's or a text's), in `valueIDs`.
    let keepsValueIDs: Bool
    /// The ids of the last added batch's values, when kept (see `ValueIDs`).
    private(set) var valueIDs: ValueIDs? = nil

    init(feature: FeatureSpec, keepingValueIDs: Bool = false) {
        self.feature = feature
        keepsValueIDs = keepingValueIDs && ValueIDs.areKept(for: feature.operation)
        switch feature.operation {
        case .scaleToZScore(let key), .scaleTo01(let key), .scaleByMinMax(_, _, let key):
            moments = Moments()
            if key != nil { perKey = [:] }
        case .bucketize: quantiles = QuantileSketch()
        case .vocabulary, .oneHot: frequencies = FrequencySketch()
        case .bagOfWords, .tfidf: terms = TermStatistics()
        case .impute(let strategy, _):
            switch strategy {
            case .mean: moments = Moments()
            case .median: quantiles = QuantileSketch()
            case .mostFrequent: frequencies = FrequencySketch()
            case .constant: break
            }
        case .pca: covariance = Covariance(dimensions: feature.inputs.count)
        case .applyBuckets, .applyVocabulary, .hashStrings, .hashedCross, .clip, .log1p: break
        }
    }

    /// Whether the feature needs a full pass at all.
    var analyzes: Bool {
        moments != nil || quantiles != nil || frequencies != nil || terms != nil || covariance != nil
    }

    mutating func add(_ batch: Table) throws {
        guard analyzes else { return }
        let typed = feature.typedInputs
        let columns = try typed.prefix(feature.inputs.count).map { try batch.input($0.name, for: feature, kind: $0.kind) }
        let column = columns[0]
        let reader = RowReader(column)
        let rows = batch.rowCount
        if (moments != nil || quantiles != nil) && perKey == nil {
            var finite: [Double] = []
            finite.reserveCapacity(rows)
            for row in 0..<rows {
                if let value = reader.number(row), value.isFinite { finite.append(value) }
            }
            finite.withUnsafeBufferPointer { values in
                moments?.add(contentsOf: values)
                quantiles?.add(contentsOf: values)
            }
        } else if moments != nil || quantiles != nil {
            var moments = self.moments
            var quantiles = self.quantiles
            var perKey = self.perKey
            let keyColumn = try perKeyColumn(batch)
            for row in 0..<rows {
                guard let value = reader.number(row), value.isFinite else { continue }
                moments?.add(value)
                quantiles?.add(value)
                if perKey != nil, let keyColumn {
                    keyColumn.withText(row) { key in
                        guard let key else { return }
                        perKey![String(decoding: key, as: UTF8.self), default: Moments()].add(value)
                    }
                }
            }
            self.moments = moments
            self.quantiles = quantiles
            self.perKey = perKey
        }
        valueIDs = nil
        if var frequencies {
            // Ids are kept for string columns only (a number's NaN is skipped, not looked up).
            var ids = keepsValueIDs && column.type == .string ? ValueIDs(rows: rows) : nil
            for row in 0..<rows {
                reader.withText(row) { text in
                    guard let text else {
                        ids?.appendMissing()
                        return
                    }
                    if column.type == .float, let value = reader.number(row), value.isNaN { return }
                    let id = frequencies.add(text)
                    ids?.append(id)
                }
            }
            if frequencies.isExact { valueIDs = ids?.kept }
            self.frequencies = frequencies
        }
        if var terms, let options = feature.operation.textOptions {
            var ids = keepsValueIDs ? ValueIDs(rows: rows, terms: true) : nil
            addTerms(&terms, reader, rows, options, ids: &ids)
            valueIDs = ids?.kept
            self.terms = terms
        }
        if var covariance {
            var row = [Double](repeating: 0, count: columns.count)
            var delta = row
            rows: for index in 0..<rows {
                for (position, input) in columns.enumerated() {
                    guard let value = input.number(index), value.isFinite else { continue rows }
                    row[position] = value
                }
                covariance.add(row, delta: &delta)
            }
            self.covariance = covariance
        }
    }

    private func perKeyColumn(_ batch: Table) throws -> Column? {
        switch feature.operation {
        case .scaleToZScore(let key?), .scaleTo01(let key?), .scaleByMinMax(_, _, let key?):
            return try batch.input(key, for: feature, kind: .any)
        default: return nil
        }
    }

    /// Counts each row's terms, noting each term's id in `ids` (when kept).
    private func addTerms(_ terms: inout TermStatistics, _ column: RowReader, _ rows: Int, _ options: TextOptions, ids: inout ValueIDs?) {
        let tokenizer = Tokenizer(options: options)
        var scratch: [UInt8] = []
        var tokens: [Range<Int>] = []
        for row in 0..<rows {
            column.withText(row) { text in
                if let text {
                    tokenizer.forEachTerm(text, scratch: &scratch, tokens: &tokens) { term in
                        let id = terms.add(term: term)
                        ids?.append(id)
                    }
                }
            }
            terms.endDocument()
            ids?.endRow()
        }
    }

    /// Sorts an exact quantile buffer (see `QuantileSketch.sortValues`).
    mutating func prepareForMerge() { quantiles?.sortValues() }

    /// Merges `other`'s statistics, returning the id each of its values has here (by its id
    /// there) for a vocabulary or text analyzer, else nothing.
    @discardableResult
    mutating func merge(_ other: FeatureAnalyzer) -> [Int32] {
        var mergedIDs: [Int32] = []
        if let theirs = other.moments { moments?.merge(theirs) }
        if let theirs = other.quantiles { quantiles?.merge(theirs) }
        if let theirs = other.frequencies { mergedIDs = frequencies?.merge(theirs) ?? [] }
        if let theirs = other.terms { mergedIDs = terms?.merge(theirs) ?? [] }
        if let theirs = other.covariance { covariance?.merge(theirs) }
        if let theirs = other.perKey {
            for (key, value) in theirs { perKey?[key, default: Moments()].merge(value) }
        }
        return mergedIDs
    }

    func encode(into writer: inout BinaryWriter) {
        moments?.encode(into: &writer)
        quantiles?.encode(into: &writer)
        frequencies?.encode(into: &writer)
        terms?.encode(into: &writer)
        covariance?.encode(into: &writer)
        if let perKey {
            writer.write(perKey.count)
            for key in perKey.keys.sorted() {
                writer.write(key)
                perKey[key]!.encode(into: &writer)
            }
        }
    }

    static func decode(feature: FeatureSpec, from reader: inout BinaryReader) throws -> FeatureAnalyzer {
        var analyzer = FeatureAnalyzer(feature: feature)
        if analyzer.moments != nil { analyzer.moments = try Moments.decode(from: &reader) }
        if analyzer.quantiles != nil { analyzer.quantiles = try QuantileSketch.decode(from: &reader) }
        if analyzer.frequencies != nil { analyzer.frequencies = try FrequencySketch.decode(from: &reader) }
        if analyzer.terms != nil { analyzer.terms = try TermStatistics.decode(from: &reader) }
        if analyzer.covariance != nil {
            analyzer.covariance = try Covariance.decode(from: &reader)
            guard analyzer.covariance!.dimensions == feature.inputs.count else {
                throw KilnError.format("a partial analysis does not match its spec")
            }
        }
        if analyzer.perKey != nil {
            let count = try reader.readCount(elementBytes: 56)
            for _ in 0..<count { analyzer.perKey![try reader.readString()] = try Moments.decode(from: &reader) }
        }
        return analyzer
    }
}
