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
        let root = try SpecReader(json, path: "statistics")
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
            let item = try SpecReader(value, path: "statistics.features[\(index)]")
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

/// Reads one JSON object with errors that name the field.
struct SpecReader {
    let path: String
    private let members: [(String, JSONValue)]

    init(_ value: JSONValue, path: String) throws {
        guard let members = value.objectMembers else {
            throw KilnError.invalidArgument("\(path): expected an object, got \(value.kindName)")
        }
        self.members = members
        self.path = path
    }

    func error(_ field: String, _ message: String) -> KilnError { KilnError.invalidArgument("\(path).\(field): \(message)") }

    var keys: [String] { members.map(\.0) }

    func value(_ field: String) -> JSONValue? {
        guard let value = members.first(where: { $0.0 == field })?.1 else { return nil }
        if case .null = value { return nil }
        return value
    }

    func string(_ field: String) throws -> String? {
        guard let value = value(field) else { return nil }
        guard let string = value.stringValue else { throw error(field, "expected a string, got \(value.kindName)") }
        return string
    }

    func requiredString(_ field: String) throws -> String {
        guard let string = try string(field) else { throw error(field, "is required") }
        return string
    }

    func double(_ field: String) throws -> Double? {
        guard let value = value(field) else { return nil }
        guard let number = value.doubleValue else { throw error(field, "expected a number, got \(value.kindName)") }
        return number
    }

    func int(_ field: String) throws -> Int? {
        guard let value = value(field) else { return nil }
        guard let number = value.intValue else { throw error(field, "expected an integer, got \(value.text)") }
        return number
    }

    func requiredInt(_ field: String) throws -> Int {
        guard let number = try int(field) else { throw error(field, "is required") }
        return number
    }

    func bool(_ field: String) throws -> Bool? {
        guard let value = value(field) else { return nil }
        guard let flag = value.boolValue else { throw error(field, "expected true or false, got \(value.kindName)") }
        return flag
    }

    func doubles(_ field: String) throws -> [Double]? {
        guard let value = value(field) else { return nil }
        guard let array = value.arrayValue, let numbers = Optional(array.compactMap(\.doubleValue)), numbers.count == array.count else {
            throw error(field, "expected an array of numbers")
        }
        return numbers
    }

    func strings(_ field: String) throws -> [String]? {
        guard let value = value(field) else { return nil }
        guard let array = value.arrayValue, let strings = Optional(array.compactMap(\.stringValue)), strings.count == array.count else {
            throw error(field, "expected an array of strings")
        }
        return strings
    }

    func rejectUnknownFields(_ known: Set<String>) throws {
        for key in keys where !known.contains(key) {
            throw KilnError.invalidArgument("\(path): unknown field '\(key)' (known: \(known.sorted().joined(separator: ", ")))")
        }
    }
}
