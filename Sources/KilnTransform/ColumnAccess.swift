import KilnCore
import KilnTabular

/// Which column types an operation accepts.
enum InputKind {
    case numeric, text, any

    func accepts(_ type: ColumnType) -> Bool {
        switch self {
        case .numeric: type != .string
        case .text: type == .string
        case .any: true
        }
    }

    var description: String {
        switch self {
        case .numeric: "a numeric (int, float or bool) column"
        case .text: "a string column"
        case .any: "a column"
        }
    }
}

extension FeatureOperation {
    var textOptions: TextOptions? {
        switch self {
        case .bagOfWords(let options), .tfidf(let options): options
        default: nil
        }
    }

    var inputKind: InputKind {
        switch self {
        case .scaleToZScore, .scaleTo01, .scaleByMinMax, .bucketize, .applyBuckets, .clip, .log1p, .pca: .numeric
        case .bagOfWords, .tfidf: .text
        case .vocabulary, .applyVocabulary, .oneHot, .hashStrings, .hashedCross, .impute: .any
        }
    }
}

extension Table {
    /// The column `name`, checked against what `feature` accepts; the error names the feature
    /// and lists the available columns and types.
    func input(_ name: String, for feature: FeatureSpec, kind: InputKind) throws -> Column {
        guard let index = columnIndex(name) else {
            throw KilnError(.notFound,
                "feature '\(feature.output)' (\(feature.opName)) reads column '\(name)', which the data does not have; available: \(describeFields(schema))")
        }
        let column = columns[index]
        guard kind.accepts(column.type) else {
            throw KilnError.shapeMismatch(
                "feature '\(feature.output)' (\(feature.opName)) needs \(kind.description), but '\(name)' is \(column.type.rawValue); available: \(describeFields(schema))")
        }
        return column
    }
}

extension FeatureSpec {
    /// The columns the feature reads with the kind each must be.
    var typedInputs: [(name: String, kind: InputKind)] {
        var kind = operation.inputKind
        if case .impute(let strategy, _) = operation, strategy == .mean || strategy == .median { kind = .numeric }
        return columnsRead.enumerated().map { index, name in (name, index < inputs.count ? kind : .any) }
    }
}

/// A column's values fetched once for loops over every row of a batch (`Column.number` and
/// `Column.withText` switch on the storage per call, from another module).
struct RowReader {
    private let column: Column
    private let validity: [UInt64]
    private let numbers: [Double]
    private let offsets: [Int]
    private let bytes: [UInt8]
    private let isText: Bool

    init(_ column: Column) {
        self.column = column
        validity = column.validity.words
        numbers = column.doubles ?? []
        if case .string(let strings) = column.values {
            offsets = strings.offsets
            bytes = strings.bytes
            isText = true
        } else {
            offsets = []
            bytes = []
            isText = false
        }
    }

    @inline(__always)
    func isValid(_ row: Int) -> Bool { validity[row >> 6] >> UInt64(row & 63) & 1 != 0 }

    /// As `Column.number`: nil when missing or text.
    @inline(__always)
    func number(_ row: Int) -> Double? { !isText && isValid(row) ? numbers[row] : nil }

    /// As `Column.withText`: the bytes of value `row` (numbers as the CSV writer prints them),
    /// nil when missing.
    @inline(__always)
    func withText<R>(_ row: Int, _ body: (UnsafeBufferPointer<UInt8>?) -> R) -> R {
        guard isText else { return column.withText(row, body) }
        guard isValid(row) else { return body(nil) }
        return bytes.withUnsafeBufferPointer { body(UnsafeBufferPointer(rebasing: $0[offsets[row]..<offsets[row + 1]])) }
    }
}
