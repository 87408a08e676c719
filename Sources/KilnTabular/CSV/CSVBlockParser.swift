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
/// pass, then each selected column is converted in its own tight loop over the records.
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
        var columns: [Column] = []
        var failedRows = Set<Int>()
        for column in selected {
            let (converted, failures) = convert(tokens, rows, column.index, column.field, stopAtFirstFailure: policy == .error)
            for position in failures {
                let record = Int(rows[position])
                failedRows.insert(position)
                let text = tokens.field(record, column.index)
                issues.append((record, BlockIssue(
                    line: Int(tokens.recordLine[record]), reason: "unparsable value",
                    message: "column \(column.index + 1) ('\(column.field.name)'): cannot read '\(preview(text))' as \(column.field.type.rawValue)")))
            }
            columns.append(converted)
        }
        if policy == .error {
            if let first = issues.min(by: { $0.record < $1.record }) { result.error = first.issue }
            if result.error != nil { return result }
        } else {
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
        }
        do {
            result.batch = try Table(columns: columns)
        } catch {
            result.error = BlockIssue(line: 0, reason: "internal", message: "\(error)")
        }
        return result
    }

    /// Converts field `fieldIndex` of the given records; returns the column and the positions
    /// (in `rows`) whose text does not parse as the type.
    private func convert(
        _ tokens: TokenTable, _ rows: [Int32], _ fieldIndex: Int, _ field: Field, stopAtFirstFailure: Bool
    ) -> (Column, [Int]) {
        let count = rows.count
        var words = [UInt64](repeating: 0, count: (count + 63) / 64)
        var failures: [Int] = []
        let missing = self.missing
        func validity() -> Bitmap { Bitmap(words: words, count: count) }
        @inline(__always) func markValid(_ position: Int) { words[position >> 6] |= 1 << UInt64(position & 63) }
        let values: ColumnValues
        switch field.type {
        case .float:
            var output = [Double](repeating: 0, count: count)
            for position in 0..<count {
                let text = tokens.field(Int(rows[position]), fieldIndex)
                if missing.contains(text) { continue }
                guard let value = TextNumbers.parseDouble(text) else {
                    failures.append(position)
                    if stopAtFirstFailure { break } else { continue }
                }
                output[position] = value
                markValid(position)
            }
            values = .float(output)
        case .int:
            var output = [Int64](repeating: 0, count: count)
            for position in 0..<count {
                let text = tokens.field(Int(rows[position]), fieldIndex)
                if missing.contains(text) { continue }
                guard let value = TextNumbers.parseInt(text) else {
                    failures.append(position)
                    if stopAtFirstFailure { break } else { continue }
                }
                output[position] = value
                markValid(position)
            }
            values = .int(output)
        case .bool:
            var output = [Bool](repeating: false, count: count)
            for position in 0..<count {
                let text = tokens.field(Int(rows[position]), fieldIndex)
                if missing.contains(text) { continue }
                guard let value = TextNumbers.parseBool(text) else {
                    failures.append(position)
                    if stopAtFirstFailure { break } else { continue }
                }
                output[position] = value
                markValid(position)
            }
            values = .bool(output)
        case .string:
            var total = 0
            for position in 0..<count { total += tokens.field(Int(rows[position]), fieldIndex).count }
            var strings = StringArray()
            strings.reserveCapacity(values: count, bytes: total)
            for position in 0..<count {
                let text = tokens.field(Int(rows[position]), fieldIndex)
                if missing.contains(text) {
                    strings.appendEmpty()
                } else {
                    strings.append(text)
                    markValid(position)
                }
            }
            values = .string(strings)
        }
        // A column stopped early (error policy) is discarded by the caller.
        let column = (try? Column(name: field.name, values: values, validity: validity()))!
        return (column, failures)
    }
}

/// The start of a field's text for an error message.
func preview(_ text: UnsafeBufferPointer<UInt8>) -> String {
    let string = String(decoding: text.prefix(40), as: UTF8.self)
    return text.count > 40 ? string + "…" : string
}
