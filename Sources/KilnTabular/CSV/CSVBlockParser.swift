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

/// Converts one block of records into a batch of typed columns.
struct CSVBlockParser {
    let tokenizer: CSVTokenizer
    /// The number of fields every record must have.
    let fieldCount: Int
    /// Which file columns become batch columns, with their names and types.
    let selected: [(index: Int, field: Field)]
    let missing: MissingTokens
    let policy: BadRowPolicy
    /// Records expected per byte of block, to size the columns once.
    var rowsPerByte = 0.01

    func parse(_ block: UnsafeBufferPointer<UInt8>) -> BlockResult {
        var result = BlockResult()
        let capacity = Int(Double(block.count) * rowsPerByte) + 16
        let builders = selected.map { ColumnBuilder(type: $0.field.type, capacity: capacity) }
        var rows = 0
        result.lines = tokenizer.forEachRecord(block, maxFields: fieldCount) { fields, count, line, problem in
            var issue: BlockIssue? = nil
            if let problem {
                issue = BlockIssue(line: line, reason: problem.rawValue, message: "\(problem.rawValue) in field \(count)")
            } else if count != fieldCount {
                issue = BlockIssue(
                    line: line, reason: "wrong field count", message: "expected \(fieldCount) fields, found \(count)")
            } else {
                for (position, column) in selected.enumerated() {
                    let text = fields[column.index].bytes
                    if missing.contains(text) {
                        builders[position].appendMissing()
                    } else if !builders[position].append(text) {
                        for builder in builders[..<position] { builder.truncate(to: rows) }
                        issue = BlockIssue(
                            line: line, reason: "unparsable value",
                            message: "column \(column.index + 1) ('\(column.field.name)'): cannot read '\(preview(text))' as \(column.field.type.rawValue)")
                        break
                    }
                }
            }
            guard let issue else {
                rows += 1
                return true
            }
            if policy == .error {
                result.error = issue
                return false
            }
            result.skipped.append(issue)
            return true
        }
        if result.error == nil {
            do {
                result.batch = try Table(columns: zip(builders, selected).map { try $0.finish(name: $1.field.name) })
            } catch {
                result.error = BlockIssue(line: 0, reason: "internal", message: "\(error)")
            }
        }
        return result
    }
}

/// The start of a field's text for an error message.
func preview(_ text: UnsafeBufferPointer<UInt8>) -> String {
    let string = String(decoding: text.prefix(40), as: UTF8.self)
    return text.count > 40 ? string + "…" : string
}
