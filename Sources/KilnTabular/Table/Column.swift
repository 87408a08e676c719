import KilnCore

import KilnCore

/// A column's values; missing entries hold a placeholder (0, false or "") and are marked in
/// the column's validity bitmap. NaN in a float column is a value, not a missing entry.
public enum ColumnValues: Sendable, Equatable {
    case float([Double])
    case int([Int64])
    case bool([Bool])
    case string(StringArray)

    public var type: ColumnType {
        switch self {
        case .float: .float
        case .int: .int
        case .bool: .bool
        case .string: .string
        }
    }

    public var count: Int {
        switch self {
        case .float(let values): values.count
        case .int(let values): values.count
        case .bool(let values): values.count
        case .string(let values): values.count
        }
    }
}

/// A named, typed column with a validity bitmap (bit set = value present).
public struct Column: Sendable, Equatable {
    public var name: String
    public var values: ColumnValues
    public var validity: Bitmap

    public init(name: String, values: ColumnValues, validity: Bitmap? = nil) throws {
        let validity = validity ?? Bitmap(repeating: true, count: values.count)
        guard validity.count == values.count else {
            throw KilnError.shapeMismatch(
                "column '\(name)' has \(values.count) values but a validity bitmap of \(validity.count)")
        }
        self.name = name
        self.values = values
        self.validity = validity
    }

    public var type: ColumnType { values.type }
    public var count: Int { values.count }
    public var missingCount: Int { count - validity.setCount }

    /// The memory the column's buffers hold (by capacity).
    public var byteCount: Int {
        let values = switch values {
        case .float(let values): values.capacity * 8
        case .int(let values): values.capacity * 8
        case .bool(let values): values.capacity
        case .string(let values): values.offsets.capacity * 8 + values.bytes.capacity
        }
        return values + validity.words.capacity * 8
    }

    @inline(__always)
    public func isValid(_ row: Int) -> Bool { validity[row] }

    /// Float columns as they are; int and bool columns converted; nil for strings.
    public var doubles: [Double]? {
        switch values {
        case .float(let values): values
        case .int(let values): values.map(Double.init)
        case .bool(let values): values.map { $0 ? 1 : 0 }
        case .string: nil
        }
    }

    /// Value `row` as text, as the CSV writer prints it ("" when missing).
    public func text(_ row: Int) -> String {
        guard validity[row] else { return "" }
        switch values {
        case .float(let values): return formatDouble(values[row])
        case .int(let values): return String(values[row])
        case .bool(let values): return values[row] ? "true" : "false"
        case .string(let values): return values[row]
        }
    }

    /// The rows whose `keep` flag is set, in order.
    public func filtered(_ keep: [Bool]) throws -> Column {
        func pick<T>(_ values: [T]) -> [T] { zip(values, keep).compactMap { $1 ? $0 : nil } }
        var validity = Bitmap()
        for row in 0..<count where keep[row] { validity.append(self.validity[row]) }
        switch values {
        case .float(let values): return try Column(name: name, values: .float(pick(values)), validity: validity)
        case .int(let values): return try Column(name: name, values: .int(pick(values)), validity: validity)
        case .bool(let values): return try Column(name: name, values: .bool(pick(values)), validity: validity)
        case .string(let values):
            var strings = StringArray()
            for row in 0..<count where keep[row] { values.withValue(row) { strings.append($0) } }
            return try Column(name: name, values: .string(strings), validity: validity)
        }
    }

    /// Appends another column of the same type.
    public mutating func append(_ other: Column) throws {
        switch (values, other.values) {
        case (.float(var mine), .float(let theirs)):
            values = .float([])
            mine.append(contentsOf: theirs)
            values = .float(mine)
        case (.int(var mine), .int(let theirs)):
            values = .int([])
            mine.append(contentsOf: theirs)
            values = .int(mine)
        case (.bool(var mine), .bool(let theirs)):
            values = .bool([])
            mine.append(contentsOf: theirs)
            values = .bool(mine)
        case (.string(var mine), .string(let theirs)):
            values = .string(StringArray())
            mine.append(contentsOf: theirs)
            values = .string(mine)
        default:
            throw KilnError.shapeMismatch(
                "cannot append a \(other.type.rawValue) column to '\(name)' of type \(type.rawValue)")
        }
        validity.append(contentsOf: other.validity)
    }
}

extension Column {
    /// Value `row` as a double, nil when missing or a string.
    @inline(__always)
    public func number(_ row: Int) -> Double? {
        guard validity[row] else { return nil }
        switch values {
        case .float(let values): return values[row]
        case .int(let values): return Double(values[row])
        case .bool(let values): return values[row] ? 1 : 0
        case .string: return nil
        }
    }

    /// Calls `body` with value `row` as text bytes (strings as they are, numbers as the CSV
    /// writer prints them), or with nil when it is missing.
    @inline(__always)
    public func withText<R>(_ row: Int, _ body: (UnsafeBufferPointer<UInt8>?) -> R) -> R {
        guard validity[row] else { return body(nil) }
        switch values {
        case .string(let strings): return strings.withValue(row) { body($0) }
        default:
            var text = self.text(row)
            return text.withUTF8 { body($0) }
        }
    }
}

/// The shortest text that reads back as the same double ("1.5", "100.0", "1e-07", "nan",
/// "-inf"): integral values keep their ".0" so that a reader infers a float column again.
public func formatDouble(_ value: Double) -> String {
    if value.isNaN { return "nan" }
    if value.isInfinite { return value < 0 ? "-inf" : "inf" }
    return String(value)
}
