import KilnCore

/// The logical type of a column. Raw values are the names used in JSON artifacts and on the
/// command line (`--types "age=int"`).
public enum ColumnType: String, Sendable, CaseIterable, Codable {
    case float
    case int
    case bool
    case string

    public init(name: String) throws {
        guard let type = ColumnType(rawValue: name) else {
            throw KilnError.invalidArgument(
                "unknown column type '\(name)' (expected one of \(ColumnType.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        self = type
    }

    public var isNumeric: Bool { self == .float || self == .int }
}
