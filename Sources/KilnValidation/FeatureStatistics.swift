import KilnCore
import KilnTabular

/// The statistics of one column, accumulated batch by batch and mergeable (binary form for
/// partials). Numeric columns (int, float, bool) keep moments, a quantile sketch and counts of
/// zeros, NaN and infinities; string columns keep value frequencies, a distinct count, total
/// length and invalid UTF-8 count. Both count present and missing values.
public struct FeatureStatistics: Sendable {
    public let name: String
    public let type: ColumnType
    public private(set) var present = 0
    public private(set) var missing = 0
    // Numeric.
    public private(set) var moments = Moments()
    public private(set) var quantiles = QuantileSketch()
    public private(set) var zeros = 0
    public private(set) var nanCount = 0
    public private(set) var positiveInfinity = 0
    public private(set) var negativeInfinity = 0
    // Strings.
    public private(set) var frequencies = FrequencySketch()
    public private(set) var distinct = HyperLogLog()
    public private(set) var totalLength = 0
    public private(set) var invalidUTF8 = 0

    public init(name: String, type: ColumnType) {
        self.name = name
        self.type = type
    }

    public mutating func add(_ column: Column) {
        for row in 0..<column.count {
            guard column.isValid(row) else {
                missing += 1
                continue
            }
            present += 1
            if type == .string {
                column.withText(row) { text in
                    guard let text else { return }
                    frequencies.add(text)
                    distinct.add(text)
                    totalLength += text.count
                    if !UTF8Validation.isValid(text) { invalidUTF8 += 1 }
                }
                continue
            }
            guard let value = column.number(row) else { continue }
            if value.isNaN {
                nanCount += 1
            } else if value.isInfinite {
                if value > 0 { positiveInfinity += 1 } else { negativeInfinity += 1 }
            } else {
                if value == 0 { zeros += 1 }
                moments.add(value)
                quantiles.add(value)
            }
        }
    }

    /// Sorts the exact quantile buffer on the worker thread, so that merging is cheap.
    mutating func prepareForMerge() { quantiles.sortValues() }

    public mutating func merge(_ other: FeatureStatistics) throws {
        guard other.name == name, other.type == type else {
            throw KilnError.shapeMismatch("cannot merge statistics of '\(other.name)' (\(other.type.rawValue)) into '\(name)' (\(type.rawValue))")
        }
        present += other.present
        missing += other.missing
        moments.merge(other.moments)
        quantiles.merge(other.quantiles)
        zeros += other.zeros
        nanCount += other.nanCount
        positiveInfinity += other.positiveInfinity
        negativeInfinity += other.negativeInfinity
        frequencies.merge(other.frequencies)
        distinct.merge(other.distinct)
        totalLength += other.totalLength
        invalidUTF8 += other.invalidUTF8
    }

    func encode(into writer: inout BinaryWriter) {
        writer.write(name)
        writer.write(type.rawValue)
        for count in [present, missing, zeros, nanCount, positiveInfinity, negativeInfinity, totalLength, invalidUTF8] {
            writer.write(count)
        }
        moments.encode(into: &writer)
        quantiles.encode(into: &writer)
        frequencies.encode(into: &writer)
        distinct.encode(into: &writer)
    }

    static func decode(from reader: inout BinaryReader) throws -> FeatureStatistics {
        var statistics = FeatureStatistics(name: try reader.readString(), type: try ColumnType(name: try reader.readString()))
        statistics.present = try reader.readInt()
        statistics.missing = try reader.readInt()
        statistics.zeros = try reader.readInt()
        statistics.nanCount = try reader.readInt()
        statistics.positiveInfinity = try reader.readInt()
        statistics.negativeInfinity = try reader.readInt()
        statistics.totalLength = try reader.readInt()
        statistics.invalidUTF8 = try reader.readInt()
        statistics.moments = try Moments.decode(from: &reader)
        statistics.quantiles = try QuantileSketch.decode(from: &reader)
        statistics.frequencies = try FrequencySketch.decode(from: &reader)
        statistics.distinct = try HyperLogLog.decode(from: &reader)
        return statistics
    }
}
