import KilnCore
import KilnTabular

extension Column {
    /// Value `row` as a double, nil when missing or a string.
    @inline(__always)
    func number(_ row: Int) -> Double? {
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
    func withText<R>(_ row: Int, _ body: (UnsafeBufferPointer<UInt8>?) -> R) -> R {
        guard validity[row] else { return body(nil) }
        switch values {
        case .string(let strings): return strings.withValue(row) { body($0) }
        default:
            var text = self.text(row)
            return text.withUTF8 { body($0) }
        }
    }
}

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
