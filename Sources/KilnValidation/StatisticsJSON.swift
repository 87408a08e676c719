import KilnCore
import KilnTabular

/// The JSON form of statistics (`"format": "kiln.statistics/1"`), full double precision.
///
/// Numeric features: `mean`, `std_dev` (sample standard deviation, n − 1, as pandas), `min`,
/// `median`, `max`, `num_zeros`, `num_nan`, `num_pos_inf`, `num_neg_inf`, `quantiles` (at 0,
/// 0.1, …, 1; exact with linear interpolation up to 65,536 values, then KLL), `histogram` (10
/// equal-width buckets from min to max, the last one closed; counts from the same sketch) and
/// `quantile_histogram` (10 buckets between consecutive deciles, a tenth of the values each).
/// String features: `unique` (exact up to 262,144 distinct values, then HyperLogLog), `top_values`
/// (the 20 most frequent, ties by byte order), `avg_length` (bytes), `num_invalid_utf8` and
/// `rank_histogram` (the top values by rank), and `values` (every value with its count, when
/// there are at most 1,000). Numeric features also list `percentiles` (0, 1, …, 100), which the
/// drift and skew comparators use. NaN and infinity are counted, not summarised.
extension DatasetStatistics {
    public static let topValueCount = 20
    public static let bucketCount = 10
    /// String features with at most this many distinct values list them all (`values`), which
    /// domain checks and the L-infinity comparator use.
    public static let maximumListedValues = 1000

    public var json: JSONValue {
        var members: [(String, JSONValue)] = [
            ("format", .string(Self.format)),
            ("num_rows", .int(rows + invalidRowCount)),
            ("num_valid_rows", .int(rows)),
            ("num_invalid_rows", .int(invalidRowCount)),
            ("invalid_rows_by_reason", .object(invalidRows.keys.sorted().map { ($0, .int(invalidRows[$0]!)) })),
            ("features", .array(features.map(\.json))),
        ]
        if let sliceColumn {
            members.append(("slice_column", .string(sliceColumn)))
            members.append(("slices", .array(slices.keys.sorted().map { key in
                let slice = slices[key]!
                return .object([("slice", .string(key)), ("num_rows", .int(slice.rows)), ("features", .array(slice.features.map(\.json)))])
            })))
        }
        return .object(members)
    }
}

extension FeatureStatistics {
    private static func number(_ value: Double?) -> JSONValue { value.map { .double($0) } ?? .null }

    public var json: JSONValue {
        var members: [(String, JSONValue)] = [
            ("name", .string(name)), ("type", .string(type.rawValue)),
            ("num_present", .int(present)), ("num_missing", .int(missing)),
        ]
        if type == .string {
            let unique = frequencies.isExact ? frequencies.table.count : distinct.estimate
            let top = frequencies.top(DatasetStatistics.topValueCount)
            members += [
                ("unique", .int(unique)),
                ("top_values", .array(top.map { .object([("value", .string($0.value)), ("count", .int($0.count))]) })),
                ("avg_length", present > 0 ? .double(Double(totalLength) / Double(present)) : .null),
                ("num_invalid_utf8", .int(invalidUTF8)),
                ("rank_histogram", .array(top.enumerated().map { rank, entry in
                    .object([("rank", .int(rank)), ("value", .string(entry.value)), ("count", .int(entry.count))])
                })),
            ]
            if frequencies.isExact && frequencies.table.count <= DatasetStatistics.maximumListedValues {
                members.append(("values", .array(frequencies.top().map {
                    .object([("value", .string($0.value)), ("count", .int($0.count))])
                })))
            }
            return .object(members)
        }
        let hasValues = moments.count > 0
        let fractions = (0...DatasetStatistics.bucketCount).map { Double($0) / Double(DatasetStatistics.bucketCount) }
        let deciles = hasValues ? quantiles.quantiles(fractions) : []
        members += [
            ("mean", hasValues ? .double(moments.mean) : .null),
            ("std_dev", moments.count > 1 ? .double(moments.sampleVariance.squareRoot()) : .null),
            ("min", hasValues ? .double(moments.min) : .null),
            ("median", Self.number(hasValues ? quantiles.quantile(0.5) : nil)),
            ("max", hasValues ? .double(moments.max) : .null),
            ("num_zeros", .int(zeros)), ("num_nan", .int(nanCount)),
            ("num_pos_inf", .int(positiveInfinity)), ("num_neg_inf", .int(negativeInfinity)),
            ("quantiles", .array(deciles.map { .double($0) })),
            ("histogram", .array(hasValues ? equalWidthHistogram() : [])),
            ("quantile_histogram", .array(zip(deciles, deciles.dropFirst()).map { low, high in
                .object([("low", .double(low)), ("high", .double(high)),
                         ("count", .double(Double(moments.count) / Double(DatasetStatistics.bucketCount)))])
            })),
            ("percentiles", .array((hasValues ? quantiles.quantiles((0...100).map { Double($0) / 100 }) : []).map { .double($0) })),
            ("exact_quantiles", .bool(quantiles.isExact)),
        ]
        return .object(members)
    }

    /// Ten buckets of equal width between min and max ([low, high), the last [low, max]).
    func equalWidthHistogram() -> [JSONValue] {
        let low = moments.min
        let high = moments.max
        let buckets = DatasetStatistics.bucketCount
        guard high > low else {
            return [.object([("low", .double(low)), ("high", .double(high)), ("count", .double(Double(moments.count)))])]
        }
        let edges = (0...buckets).map { $0 == buckets ? high : low + (high - low) * Double($0) / Double(buckets) }
        var below = quantiles.counts(below: Array(edges.dropLast()), inclusive: false)
        below.append(Double(moments.count))
        return (0..<buckets).map { index in
            .object([("low", .double(edges[index])), ("high", .double(edges[index + 1])),
                     ("count", .double(below[index + 1] - below[index]))])
        }
    }
}
