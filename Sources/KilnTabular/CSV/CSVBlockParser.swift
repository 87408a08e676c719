/// A row-level problem in a block, with its line relative to the block's first line.
struct BlockIssue {
    var line: Int
    var reason: String
    var message: String
}

/// What parsing one block produced.
struct BlockResult {
    var batch: Table? = nil
    var lines = 0
    var skipped: [BlockIssue] = []
    var error: BlockIssue? = nil
}

/// Converts one block of records into a batch of typed columns: the block is tokenized in one
/// pass, then the selected columns are converted in tight loops, each over a range of records
/// at a time.
struct CSVBlockParser {
    let tokenizer: CSVTokenizer
    /// The number of fields every record must have.
    let fieldCount: Int
    /// Which file columns become batch columns, with their names and types.
    let selected: [(index: Int, field: Field)]
    let missing: MissingTokens
    let policy: BadRowPolicy
    /// Records expected per byte of block, to size the buffers once.
    var rowsPerByte = 0.01
    /// How many records each column converts before the next column's turn: a few hundred
    /// kilobytes of text and tokens, which stay in cache through all the columns.
    static let recordsPerStep = 1024

    /// Parses `block`, tokenizing into `tokens` (a table reused from block to block).
    func parse(_ block: UnsafeBufferPointer<UInt8>, tokens: TokenTable) -> BlockResult {
        var result = BlockResult()
        tokenizer.tokenize(
            block, expectedRecords: Int(Double(block.count) * rowsPerByte * 1.1) + 16, fieldsPerRecord: fieldCount,
            into: tokens)
        result.lines = tokens.lines
        var issues: [(record: Int, issue: BlockIssue)] = []
        var rows: [Int32] = []
        rows.reserveCapacity(tokens.recordCount)
        for record in 0..<tokens.recordCount {
            let line = Int(tokens.recordLine[record])
            let count = tokens.fieldCount(record)
            if let problem = RecordProblem(rawValue: tokens.recordProblem[record]), problem != .none {
                issues.append((record, BlockIssue(line: line, reason: problem.reason, message: "\(problem.reason) in field \(count)")))
            } else if count != fieldCount {
                issues.append((record, BlockIssue(line: line, reason: "wrong field count", message: "expected \(fieldCount) fields, found \(count)")))
            } else {
                rows.append(Int32(record))
            }
            if policy == .error && !issues.isEmpty { break }
        }
        // Every column over a range of records, then the next range (see ColumnConversion).
        var conversions = selected.map { ColumnConversion(fieldIndex: $0.index, field: $0.field, tokens: tokens, rows: rows) }
        let stopAtFirstFailure = policy == .error
        rows.withUnsafeBufferPointer { rows in
            for start in stride(from: 0, to: rows.count, by: Self.recordsPerStep) {
                let positions = start..<min(start + Self.recordsPerStep, rows.count)
                for index in conversions.indices {
                    conversions[index].convert(positions, tokens: tokens, rows: rows, missing: missing, stopAtFirstFailure: stopAtFirstFailure)
                }
                if stopAtFirstFailure && conversions.contains(where: { !$0.failures.isEmpty }) { break }
            }
        }
        var failedRows = Set<Int>()
        for conversion in conversions {
            for position in conversion.failures {
                let record = Int(rows[position])
                failedRows.insert(position)
                let text = tokens.field(record, conversion.fieldIndex)
                issues.append((record, BlockIssue(
                    line: Int(tokens.recordLine[record]), reason: "unparsable value",
                    message: "column \(conversion.fieldIndex + 1) ('\(conversion.field.name)'): cannot read '\(preview(text))' as \(conversion.field.type.rawValue)")))
            }
        }
        if policy == .error, let first = issues.min(by: { $0.record < $1.record }) {
            result.error = first.issue
            return result
        }
        var columns = conversions.indices.map { conversions[$0].takeColumn() }
        var seen = Set<Int>()
        for entry in issues.sorted(by: { $0.record < $1.record }) where seen.insert(entry.record).inserted {
            result.skipped.append(entry.issue)
        }
        if !failedRows.isEmpty {
            let keep = (0..<rows.count).map { !failedRows.contains($0) }
            do { columns = try columns.map { try $0.filtered(keep) } } catch {
                result.error = BlockIssue(line: 0, reason: "internal", message: "\(error)")
                return result
            }
        }
        do {
            result.batch = try Table(columns: columns)
        } catch {
            result.error = BlockIssue(line: 0, reason: "internal", message: "\(error)")
        }
        return result
    }
}

/// The start of a field's text for an error message.
func preview(_ text: UnsafeBufferPointer<UInt8>) -> String {
    let string = String(decoding: text.prefix(40), as: UTF8.self)
    return text.count > 40 ? string + "…" : string
}
