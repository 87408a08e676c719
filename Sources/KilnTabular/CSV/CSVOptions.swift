import KilnCore

/// What to do with a malformed row: stop with an error naming its line and column (the
/// default), or skip it and count it in the reader's `CSVReport`.
public enum BadRowPolicy: String, Sendable {
    case error
    case skip
}

/// How a CSV file is read. The defaults read RFC 4180 files with a header row.
public struct CSVOptions: Sendable {
    /// The field separator (one ASCII byte): `,` by default; `;`, `\t` and `|` are common.
    public var delimiter: UInt8 = UInt8(ascii: ",")
    public var quote: UInt8 = UInt8(ascii: "\"")
    /// Whether the first record names the columns; without one they are `column_1`, ...
    public var hasHeader = true
    /// Fields equal to one of these (after unquoting) are missing values. `nan` and `inf` are
    /// not in the list: they are float values.
    public var missingTokens: [String] = ["", "NA", "N/A", "null", "NULL"]
    /// Column types that override inference, by column name.
    public var types: [String: ColumnType] = [:]
    /// Only these columns are converted (all when nil), in file order.
    public var columns: [String]? = nil
    /// How many records of the start of the file type inference looks at.
    public var inferenceRows = 20_000
    public var badRows: BadRowPolicy = .error
    /// The size of the blocks the file is read and parsed in; one block becomes one batch, so
    /// memory stays near `threads × 4 × blockBytes` whatever the file size (with several
    /// threads, the next group of blocks is read while one is parsed).
    public var blockBytes = 1 << 21
    /// Blocks parsed at once (default: Kiln's thread count). The result never depends on it.
    public var threads = 0

    public init() {}

    func validated() throws -> CSVOptions {
        guard delimiter < 0x80, delimiter != quote, delimiter != 0x0A, delimiter != 0x0D else {
            throw KilnError.invalidArgument("the CSV delimiter must be one ASCII byte other than the quote and line ends")
        }
        guard blockBytes >= 1024, inferenceRows >= 1, threads >= 0 else {
            throw KilnError.invalidArgument("blockBytes must be at least 1024, inferenceRows and threads positive")
        }
        return self
    }
}

/// What a reader saw: rows delivered, and rows skipped under `BadRowPolicy.skip`, by reason.
public struct CSVReport: Sendable, Equatable {
    public var rows = 0
    public var skippedRows: [String: Int] = [:]
    /// The first few skipped rows' messages (line and column), for a log.
    public var skippedExamples: [String] = []

    public var skippedCount: Int { skippedRows.values.reduce(0, +) }

    public init() {}
}

extension CSVOptions {
    /// Options from JSON: `{"delimiter": ";", "types": {"age": "float"}, "missing": ["", "?"],
    /// "bad_rows": "skip", "header": false}`; every key optional, unknown keys are errors.
    public init(json: JSONValue) throws {
        self.init()
        guard let members = json.objectMembers else {
            throw KilnError.invalidArgument("CSV options: expected a JSON object, got \(json.kindName)")
        }
        for (key, value) in members {
            func bad(_ expected: String) -> KilnError {
                KilnError.invalidArgument("CSV options.\(key): expected \(expected), got \(value.text)")
            }
            switch key {
            case "delimiter":
                guard let text = value.stringValue, text.utf8.count == 1, let byte = text.utf8.first, byte < 0x80 else {
                    throw bad("one ASCII character")
                }
                delimiter = byte
            case "types":
                guard let entries = value.objectMembers else { throw bad("an object of column types") }
                for (name, type) in entries {
                    guard let typeName = type.stringValue else { throw bad("type names") }
                    types[name] = try ColumnType(name: typeName)
                }
            case "missing":
                guard let tokens = value.arrayValue?.compactMap(\.stringValue), tokens.count == value.arrayValue?.count else {
                    throw bad("an array of strings")
                }
                missingTokens = tokens
            case "bad_rows":
                guard let policy = value.stringValue.flatMap(BadRowPolicy.init(rawValue:)) else { throw bad("\"error\" or \"skip\"") }
                badRows = policy
            case "header":
                guard let flag = value.boolValue else { throw bad("true or false") }
                hasHeader = flag
            default:
                throw KilnError.invalidArgument("CSV options: unknown key '\(key)' (known: delimiter, types, missing, bad_rows, header)")
            }
        }
    }
}
