import KilnCore
import KilnTabular

/// Statistics of a dataset in the style of TFDV: per feature counts, moments, quantiles and
/// histograms (numeric) or distinct counts, top values and lengths (strings); the rows read and
/// the malformed rows by reason; optionally the same per value of a slice column. Streaming,
/// mergeable (binary partials), and the same whatever the thread count.
public struct DatasetStatistics: Sendable {
    public static let format = "kiln.statistics/1"
    public static let magic = "kiln.statistics_partial"
    public static let version: UInt32 = 1
    /// Rows read into the statistics (malformed rows are not among them).
    public private(set) var rows = 0
    /// Malformed rows, by reason (wrong field count, unparsable value, ...).
    public internal(set) var invalidRows: [String: Int] = [:]
    public private(set) var features: [FeatureStatistics]
    public let sliceColumn: String?
    /// Statistics per value of the slice column ("" for missing), when slicing.
    public private(set) var slices: [String: DatasetStatistics] = [:]

    public init(schema: [Field], sliceColumn: String? = nil) throws {
        if let sliceColumn, !schema.contains(where: { $0.name == sliceColumn }) {
            throw KilnError(.notFound, "no slice column '\(sliceColumn)'; the data has \(describeFields(schema))")
        }
        features = schema.map { FeatureStatistics(name: $0.name, type: $0.type) }
        self.sliceColumn = sliceColumn
    }

    public var schema: [Field] { features.map { Field(name: $0.name, type: $0.type) } }
    public var invalidRowCount: Int { invalidRows.values.reduce(0, +) }

    public mutating func add(_ batch: Table) throws {
        guard batch.schema == schema else {
            throw KilnError.shapeMismatch("a batch with columns \(describeFields(batch.schema)) does not match \(describeFields(schema))")
        }
        for index in features.indices { features[index].add(batch.columns[index]) }
        rows += batch.rowCount
        guard let sliceColumn else { return }
        let keyColumn = try batch.column(sliceColumn)
        var groups: [String: [Bool]] = [:]
        for row in 0..<batch.rowCount {
            let key = keyColumn.withText(row) { $0.map { String(decoding: $0, as: UTF8.self) } ?? "" }
            groups[key, default: [Bool](repeating: false, count: batch.rowCount)][row] = true
        }
        for (key, keep) in groups {
            let part = try Table(columns: batch.columns.map { try $0.filtered(keep) })
            var slice = try slices[key] ?? DatasetStatistics(schema: schema)
            try slice.add(part)
            slices[key] = slice
        }
    }

    mutating func prepareForMerge() {
        for index in features.indices { features[index].prepareForMerge() }
        for key in slices.keys { slices[key]!.prepareForMerge() }
    }

    public mutating func merge(_ other: DatasetStatistics) throws {
        guard other.schema == schema, other.sliceColumn == sliceColumn else {
            throw KilnError.shapeMismatch("cannot merge statistics of different columns: \(describeFields(other.schema)) vs \(describeFields(schema))")
        }
        for index in features.indices { try features[index].merge(other.features[index]) }
        rows += other.rows
        for (reason, count) in other.invalidRows { invalidRows[reason, default: 0] += count }
        for key in other.slices.keys.sorted() {
            var slice = try slices[key] ?? DatasetStatistics(schema: schema)
            try slice.merge(other.slices[key]!)
            slices[key] = slice
        }
    }

    /// Statistics of a CSV file, streamed: malformed rows are counted as invalid (by reason),
    /// never dropped silently; each batch is summarised on the thread that parsed it.
    public static func generate(csvPath: String, options: CSVOptions = CSVOptions(), sliceColumn: String? = nil) throws -> DatasetStatistics {
        var options = options
        options.badRows = .skip
        let reader = try CSVReader(path: csvPath, options: options)
        var total = try DatasetStatistics(schema: reader.schema, sliceColumn: sliceColumn)
        let schema = reader.schema
        while let partials = try reader.nextGroup({ batch -> DatasetStatistics in
            var partial = try DatasetStatistics(schema: schema, sliceColumn: sliceColumn)
            try partial.add(batch)
            partial.prepareForMerge()
            return partial
        }) {
            for partial in partials { try total.merge(partial) }
        }
        total.invalidRows = reader.report.skippedRows
        return total
    }

    // MARK: Binary partials

    public func encoded() -> [UInt8] {
        var writer = BinaryWriter()
        writer.writeHeader(magic: Self.magic, version: Self.version)
        encodeBody(into: &writer)
        return writer.bytes
    }

    private func encodeBody(into writer: inout BinaryWriter) {
        writer.write(sliceColumn ?? "")
        writer.write(sliceColumn != nil)
        writer.write(rows)
        writer.write(invalidRows.count)
        for reason in invalidRows.keys.sorted() {
            writer.write(reason)
            writer.write(invalidRows[reason]!)
        }
        writer.write(features.count)
        for feature in features { feature.encode(into: &writer) }
        writer.write(slices.count)
        for key in slices.keys.sorted() {
            writer.write(key)
            slices[key]!.encodeBody(into: &writer)
        }
    }

    public init(encoded bytes: [UInt8]) throws {
        var reader = BinaryReader(bytes, what: "statistics partial")
        try reader.readHeader(magic: Self.magic, version: Self.version)
        self = try Self.decodeBody(from: &reader)
        guard reader.isAtEnd else { throw KilnError.format("statistics partial has trailing bytes") }
    }

    private static func decodeBody(from reader: inout BinaryReader) throws -> DatasetStatistics {
        let sliceName = try reader.readString()
        let sliced = try reader.readBool()
        let rows = try reader.readInt()
        var invalid: [String: Int] = [:]
        for _ in 0..<(try reader.readCount(elementBytes: 16)) { invalid[try reader.readString()] = try reader.readInt() }
        let count = try reader.readCount(elementBytes: 16)
        let features = try (0..<count).map { _ in try FeatureStatistics.decode(from: &reader) }
        var statistics = try DatasetStatistics(schema: features.map { Field(name: $0.name, type: $0.type) }, sliceColumn: sliced ? sliceName : nil)
        statistics.features = features
        statistics.rows = rows
        statistics.invalidRows = invalid
        for _ in 0..<(try reader.readCount(elementBytes: 16)) {
            let key = try reader.readString()
            statistics.slices[key] = try decodeBody(from: &reader)
        }
        return statistics
    }
}
