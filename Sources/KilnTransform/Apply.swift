import KilnCore
import KilnTabular

/// Applying a graph. Missing inputs give missing outputs for the numeric mappers, NaN inputs
/// give NaN (bucketize: missing; impute fills NaN as it fills missing values, as scikit-learn's
/// SimpleImputer does); categorical mappers (vocabulary, one-hot, hashing) treat a
/// missing value as an unseen one, so that they always produce a valid index.
extension TransformGraph {
    /// Transforms one batch. O(rows × features); vocabulary lookups allocate nothing per row.
    public func apply(_ batch: Table) throws -> TransformedTable {
        let conformed = try conform(batch)
        let outputs = try features.map { try apply($0, conformed) }
        return TransformedTable(outputs: outputs, rowCount: batch.rowCount)
    }

    /// Transforms every batch of a CSV reader (each on the thread that parsed it), calling
    /// `body` with each result in file order.
    public func apply(reader: CSVReader, _ body: (TransformedTable) throws -> Void) throws {
        while let results = try reader.nextGroup({ try self.apply($0) }) {
            for result in results { try body(result) }
        }
    }

    /// Reads the columns the graph needs, converting ints given as floats (and back, when
    /// integral) so that a serving request's numbers match the training data's types.
    /// With `skippingAbsent`, columns the batch lacks are left out (a cached batch whose
    /// columns only kept ids need, see `ValueIDs`).
    func conform(_ batch: Table, skippingAbsent: Bool = false) throws -> Table {
        let columns = try inputSchema.compactMap { field -> Column? in
            guard let index = batch.columnIndex(field.name) else {
                if skippingAbsent { return nil }
                throw KilnError(.notFound, "the transform graph needs column '\(field.name)' (\(field.type.rawValue)); the data has \(describeFields(batch.schema))")
            }
            let column = batch.columns[index]
            if column.type == field.type { return column }
            switch (field.type, column.values) {
            case (.float, .int(let values)):
                return try Column(name: field.name, values: .float(values.map(Double.init)), validity: column.validity)
            case (.float, .bool(let values)):
                return try Column(name: field.name, values: .float(values.map { $0 ? 1 : 0 }), validity: column.validity)
            case (.int, .float(let values)):
                let converted = try values.enumerated().map { row, value -> Int64 in
                    guard !column.validity[row] || (value == value.rounded() && abs(value) < 9.2e18) else {
                        throw KilnError.shapeMismatch("column '\(field.name)' must hold integers (it was int in the analysed data), got \(value) in row \(row)")
                    }
                    return column.validity[row] ? Int64(value) : 0
                }
                return try Column(name: field.name, values: .int(converted), validity: column.validity)
            default:
                throw KilnError.shapeMismatch("column '\(field.name)' is \(column.type.rawValue), but the transform graph was analysed with \(field.type.rawValue)")
            }
        }
        return try Table(columns: columns)
    }

    /// The index of `text` (nil: missing) in a vocabulary: its position, else an OOV bucket by
    /// its hash, else the default value.
    @inline(__always)
    static func vocabularyIndex(_ text: UnsafeBufferPointer<UInt8>?, _ options: VocabularyOptions, _ lookup: ByteStringTable.Finder) -> Int64 {
        let bytes = text ?? UnsafeBufferPointer(start: nil, count: 0)
        if text != nil, let id = lookup.find(bytes) { return Int64(id) }
        if options.oovBuckets > 0 {
            return Int64(lookup.count) + Int64(XXHash64.hash(bytes) % UInt64(options.oovBuckets))
        }
        return options.defaultValue
    }

    /// `hash_strings`' bucket of `text` (a missing value hashes as empty text).
    @inline(__always)
    static func hashBucket(_ text: UnsafeBufferPointer<UInt8>?, _ buckets: Int) -> Int64 {
        Int64(XXHash64.hash(text ?? UnsafeBufferPointer(start: nil, count: 0)) % UInt64(buckets))
    }

    /// One feature's output for a conformed batch.
    func apply(_ feature: CompiledFeature, _ batch: Table) throws -> OutputColumn {
        let spec = feature.spec
        let constants = feature.constants
        let inputs = try spec.typedInputs.map { try batch.input($0.name, for: spec, kind: $0.kind) }
        let column = inputs[0]
        let reader = RowReader(column)
        let rows = batch.rowCount
        let name = spec.output

        func mapNumbers(_ transform: (Int, Double) -> Double) throws -> OutputColumn {
            var values = [Double](repeating: 0, count: rows)
            values.withUnsafeMutableBufferPointer { output in
                for row in 0..<rows {
                    if let value = reader.number(row) { output[row] = transform(row, value) }
                }
            }
            return .single(try Column(name: name, values: .float(values), validity: column.validity))
        }
        /// A scaler's mapping with the analysed constants, or each row's key's (`_per_key`).
        func mapScaled(_ transform: (FeatureConstants.Scale, Double) -> Double) throws -> OutputColumn {
            guard inputs.count > 1 else {
                let scale = constants.scale
                return try mapNumbers { _, x in transform(scale, x) }
            }
            let keys = RowReader(inputs[1])
            return try mapNumbers { row, x in
                let scale = keys.withText(row) { key in
                    key.flatMap { constants.perKey[String(decoding: $0, as: UTF8.self)] } ?? constants.scale
                }
                return transform(scale, x)
            }
        }
        func indexColumn(_ index: (Int) -> Int64) throws -> OutputColumn {
            .single(try Column(name: name, values: .int((0..<rows).map(index))))
        }
        func vocabularyIndex(_ row: Int, _ options: VocabularyOptions, _ lookup: ByteStringTable.Finder) -> Int64 {
            reader.withText(row) { Self.vocabularyIndex($0, options, lookup) }
        }

        switch spec.operation {
        case .scaleToZScore:
            return try mapScaled { s, x in s.std > 0 ? (x - s.mean) / s.std : x - s.mean }
        case .scaleTo01:
            return try mapScaled { s, x in s.max > s.min ? (x - s.min) / (s.max - s.min) : x - s.min }
        case .scaleByMinMax(let low, let high, _):
            return try mapScaled { s, x in
                s.max > s.min ? low + (x - s.min) / (s.max - s.min) * (high - low) : low + (x - s.min)
            }
        case .bucketize, .applyBuckets:
            var boundaries = constants.boundaries
            if case .applyBuckets(let given) = spec.operation { boundaries = given }
            var validity = column.validity
            var values = [Int64](repeating: 0, count: rows)
            for row in 0..<rows {
                guard let x = reader.number(row), !x.isNaN else {
                    validity[row] = false
                    continue
                }
                values[row] = Int64(bucket(of: x, boundaries))
            }
            return .single(try Column(name: name, values: .int(values), validity: validity))
        case .vocabulary(let options), .applyVocabulary(_, let options):
            return try feature.lookup!.withFinder { lookup in try indexColumn { vocabularyIndex($0, options, lookup) } }
        case .oneHot(let options):
            return .multi(feature.lookup!.withFinder { lookup in
                oneHot(feature, options, rows) { vocabularyIndex($0, options, lookup) }
            })
        case .hashStrings(let buckets):
            return try indexColumn { row in reader.withText(row) { Self.hashBucket($0, buckets) } }
        case .hashedCross(let buckets):
            var joined: [UInt8] = []
            return try indexColumn { row in
                joined.removeAll(keepingCapacity: true)
                for (position, input) in inputs.enumerated() {
                    if position > 0 { joined.append(0x1F) }
                    input.withText(row) { if let text = $0 { joined.append(contentsOf: text) } }
                }
                return Int64(joined.withUnsafeBufferPointer { XXHash64.hash($0) } % UInt64(buckets))
            }
        case .bagOfWords(let options), .tfidf(let options):
            let tokenizer = Tokenizer(options: options)
            var scratch: [UInt8] = []
            var tokens: [Range<Int>] = []
            return .multi(feature.lookup!.withFinder { lookup in
                termVector(feature, rows, options) { row, counted in
                    reader.withText(row) { text in
                        guard let text else { return }
                        tokenizer.forEachTerm(text, scratch: &scratch, tokens: &tokens) { term in
                            if let id = lookup.find(term) { counted(id) }
                        }
                    }
                }
            })
        case .impute:
            return .single(try impute(column, fill: constants.fill, output: outputField(feature).type, name: name))
        case .clip(let low, let high):
            return try mapNumbers { _, x in
                var value = x
                if let low, value < low { value = low }
                if let high, value > high { value = high }
                return value
            }
        case .log1p:
            return try mapNumbers { _, x in naturalLogOnePlus(x) }
        case .pca(let count):
            var sparse = SparseColumn(name: name, width: count)
            var centered = [Double](repeating: 0, count: inputs.count)
            for row in 0..<rows {
                var complete = true
                for (position, input) in inputs.enumerated() {
                    guard let value = input.number(row) else { complete = false; break }
                    centered[position] = value - constants.componentMean[position]
                }
                for component in 0..<count {
                    var dot = 0.0
                    if complete {
                        for position in 0..<inputs.count { dot += centered[position] * constants.components[component][position] }
                    }
                    sparse.indices.append(Int32(component))
                    sparse.values.append(complete ? dot : .nan)
                }
                sparse.rowStarts.append(sparse.indices.count)
            }
            return .multi(sparse)
        }
    }

    /// One-hot rows of each row's vocabulary `index`.
    @inline(__always)
    func oneHot(_ feature: CompiledFeature, _ options: VocabularyOptions, _ rows: Int, index: (Int) -> Int64) -> SparseColumn {
        let width = feature.lookup!.count + options.oovBuckets
        var sparse = SparseColumn(name: feature.spec.output, width: width)
        for row in 0..<rows {
            let index = index(row)
            if index >= 0 && index < width {
                sparse.indices.append(Int32(index))
                sparse.values.append(1)
            }
            sparse.rowStarts.append(sparse.indices.count)
        }
        return sparse
    }

    /// Bag-of-words or tf-idf rows; `forEachTermIndex(row, counted)` calls `counted` with the
    /// vocabulary index of each of the row's terms that is in the vocabulary.
    @inline(__always)
    func termVector(
        _ feature: CompiledFeature, _ rows: Int, _ options: TextOptions, forEachTermIndex: (Int, (Int) -> Void) -> Void
    ) -> SparseColumn {
        let lookup = feature.lookup!
        let idf = feature.constants.idf
        let isTFIDF = !idf.isEmpty || { if case .tfidf = feature.spec.operation { return true } else { return false } }()
        var sparse = SparseColumn(name: feature.spec.output, width: lookup.count)
        sparse.rowStarts.reserveCapacity(rows + 1)
        // Per row: counts in a dense buffer indexed by term id (raw: the per-term loop then has
        // no uniqueness checks), and the ids touched (few).
        let counts = UnsafeMutableBufferPointer<Double>.allocate(capacity: lookup.count)
        counts.initialize(repeating: 0)
        defer { counts.deallocate() }
        var touched: [Int32] = []
        for row in 0..<rows {
            touched.removeAll(keepingCapacity: true)
            forEachTermIndex(row) { id in
                if counts[id] == 0 { touched.append(Int32(id)) }
                counts[id] += 1
            }
            Self.sortFew(&touched)
            var norm = 0.0
            for id in touched {
                var value = options.binary ? 1 : counts[Int(id)]
                if isTFIDF {
                    if options.sublinearTF { value = 1 + log(value) }
                    value *= idf[Int(id)]
                }
                counts[Int(id)] = value
                switch options.norm {
                case .l2: norm += value * value
                case .l1: norm += abs(value)
                case .none: break
                }
            }
            if options.norm == .l2 { norm = norm.squareRoot() }
            for id in touched {
                let value = counts[Int(id)]
                sparse.indices.append(id)
                sparse.values.append(options.norm != .none && norm > 0 ? value / norm : value)
                counts[Int(id)] = 0
            }
            sparse.rowStarts.append(sparse.indices.count)
        }
        return sparse
    }

    /// Sorts the few ids a row touches: insertion sort up to 32 of them (a text's distinct terms),
    /// the standard sort past that.
    @inline(__always)
    private static func sortFew(_ ids: inout [Int32]) {
        guard ids.count <= 32 else { return ids.sort() }
        ids.withUnsafeMutableBufferPointer { ids in
            for index in ids.indices.dropFirst() {
                let id = ids[index]
                var position = index
                while position > 0 && ids[position - 1] > id {
                    ids[position] = ids[position - 1]
                    position -= 1
                }
                ids[position] = id
            }
        }
    }

    private func impute(_ column: Column, fill: JSONValue, output: ColumnType, name: String) throws -> Column {
        let all = Bitmap(repeating: true, count: column.count)
        switch output {
        case .float:
            let value = fill.doubleValue ?? 0
            return try Column(name: name, values: .float((0..<column.count).map { row in
                guard let present = column.number(row), !present.isNaN else { return value }
                return present
            }), validity: all)
        case .int:
            guard case .int(var values) = column.values else { break }
            let value = Int64(fill.intValue ?? 0)
            for row in 0..<values.count where !column.validity[row] { values[row] = value }
            return try Column(name: name, values: .int(values), validity: all)
        case .bool:
            guard case .bool(var values) = column.values else { break }
            let value = fill.boolValue ?? false
            for row in 0..<values.count where !column.validity[row] { values[row] = value }
            return try Column(name: name, values: .bool(values), validity: all)
        case .string:
            guard case .string(let strings) = column.values else { break }
            let value = fill.stringValue ?? ""
            var output = StringArray()
            for row in 0..<strings.count { output.append(column.validity[row] ? strings[row] : value) }
            return try Column(name: name, values: .string(output), validity: all)
        }
        throw KilnError(.internalError, "impute output type mismatch for '\(name)'")
    }
}

/// How many `boundaries` (ascending) are at most `x`, without branches on the data (random
/// values would mispredict them): a vectorised count for the usual few boundaries, else a
/// binary search.
@inline(__always)
func bucket(of x: Double, _ boundaries: [Double]) -> Int {
    boundaries.withUnsafeBufferPointer { boundaries in
        if boundaries.count <= 32 {
            var count = 0
            for boundary in boundaries { count &+= Int(truncatingIfNeeded: (boundary <= x).flag) }
            return count
        }
        var base = 0
        var length = boundaries.count
        while length > 1 {
            let half = length / 2
            if boundaries[base + half] <= x { base += half }
            length -= half
        }
        return base + (boundaries[base] <= x ? 1 : 0)
    }
}

private extension Bool {
    @inline(__always) var flag: UInt8 { unsafeBitCast(self, to: UInt8.self) }
}

@inline(__always)
private func naturalLogOnePlus(_ x: Double) -> Double { log1p(x) }

#if canImport(Glibc)
import Glibc
#endif
