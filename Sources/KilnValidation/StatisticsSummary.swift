import KilnCore
import KilnTabular

/// Statistics as read back from their JSON (`kiln.statistics/1`): what schema inference,
/// validation and the drift/skew comparators use, so that they work on files as on fresh results.
public struct StatisticsSummary: Sendable {
    public struct Feature: Sendable {
        public var name: String
        public var type: ColumnType
        public var present: Int
        public var missing: Int
        public var min: Double?
        public var max: Double?
        public var nanCount = 0
        public var infinityCount = 0
        /// Every value with its count (strings with few distinct values), else nil.
        public var values: [(value: String, count: Int)]?
        public var topValues: [(value: String, count: Int)] = []
        public var unique: Int?
        /// Percentiles 0, 1, ..., 100 of the finite values (numeric features).
        public var percentiles: [Double] = []
        public var histogram: [(low: Double, high: Double, count: Double)] = []

        public var presentFraction: Double { present + missing > 0 ? Double(present) / Double(present + missing) : 0 }
    }

    public var rows: Int
    public var validRows: Int
    public var invalidRows: [String: Int]
    public var features: [Feature]

    public func feature(_ name: String) -> Feature? { features.first { $0.name == name } }

    public init(_ statistics: DatasetStatistics) throws { try self.init(json: statistics.json) }

    public static func load(path: String) throws -> StatisticsSummary {
        do {
            return try StatisticsSummary(json: try JSONValue.parse(try FileIO.read(path)))
        } catch let error as KilnError where error.code != .io {
            throw KilnError(error.code, "\(path): \(error.message)")
        }
    }

    public init(json: JSONValue) throws {
        var root = try SpecObject(json, path: "statistics")
        let format = try root.requiredString("format")
        guard format.hasPrefix("kiln.statistics/") else {
            throw KilnError.format("not statistics (format is \"\(format)\", expected \"\(DatasetStatistics.format)\")")
        }
        guard format == DatasetStatistics.format else {
            throw KilnError.unsupported("statistics format \"\(format)\" is not the one this Kiln reads (\"\(DatasetStatistics.format)\")")
        }
        rows = try root.requiredInt("num_rows")
        validRows = try root.int("num_valid_rows") ?? rows
        invalidRows = [:]
        for (reason, count) in root.value("invalid_rows_by_reason")?.objectMembers ?? [] { invalidRows[reason] = count.intValue ?? 0 }
        guard let list = root.value("features")?.arrayValue else { throw root.error("features", "is required") }
        features = try list.enumerated().map { index, value in
            var item = try SpecObject(value, path: "statistics.features[\(index)]")
            var feature = Feature(
                name: try item.requiredString("name"), type: try ColumnType(name: try item.requiredString("type")),
                present: try item.requiredInt("num_present"), missing: try item.requiredInt("num_missing"))
            feature.min = try item.double("min")
            feature.max = try item.double("max")
            feature.nanCount = try item.int("num_nan") ?? 0
            feature.infinityCount = (try item.int("num_pos_inf") ?? 0) + (try item.int("num_neg_inf") ?? 0)
            func counts(_ field: String) throws -> [(value: String, count: Int)]? {
                try item.value(field)?.arrayValue?.map { entry in
                    guard let value = entry["value"]?.stringValue, let count = entry["count"]?.intValue else {
                        throw item.error(field, "expected objects with value and count")
                    }
                    return (value, count)
                }
            }
            feature.values = try counts("values")
            feature.topValues = try counts("top_values") ?? []
            feature.unique = try item.int("unique")
            feature.percentiles = try item.doubles("percentiles") ?? []
            feature.histogram = (item.value("histogram")?.arrayValue ?? []).compactMap { bucket in
                guard let low = bucket["low"]?.doubleValue, let high = bucket["high"]?.doubleValue,
                    let count = bucket["count"]?.doubleValue else { return nil }
                return (low, high, count)
            }
            return feature
        }
    }
}
