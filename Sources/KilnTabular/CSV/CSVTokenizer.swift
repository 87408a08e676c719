#if canImport(Glibc)
import Glibc
#endif

/// Splits a block of CSV bytes (starting at a record boundary) into records and fields,
/// following RFC 4180: fields may be quoted, `""` inside quotes is a quote, quoted fields may
/// hold delimiters and line breaks; lines end in LF or CRLF; blank lines are skipped. A quote
/// inside an unquoted field is an ordinary character.
struct CSVTokenizer {
    let delimiter: UInt8
    let quote: UInt8

    /// Tokenizes a whole block into a (new or reused) `TokenTable`: one pass, no allocation per
    /// field. Quoted fields are unescaped into the table's text after the block's bytes.
    @discardableResult
    func tokenize(
        _ block: UnsafeBufferPointer<UInt8>, expectedRecords: Int, fieldsPerRecord: Int, into table: TokenTable = TokenTable()
    ) -> TokenTable {
        table.reset(block: block, delimiter: delimiter, expectedRecords: expectedRecords, fieldsPerRecord: fieldsPerRecord)
        let base = UnsafePointer(table.text)
        let separators = UnsafePointer(table.separators)
        let scratch = table.text
        let count = block.count
        let newline = UInt8(ascii: "\n")
        let carriageReturn = UInt8(ascii: "\r")
        let delimiter = self.delimiter
        let quote = self.quote
        var starts = table.fieldStarts
        var lengths = table.fieldLengths
        var firstField = table.recordFirstField
        var recordLine = table.recordLine
        var recordProblem = table.recordProblem
        let separatorWords = (count + 63) / 64
        var scratchUsed = count
        var position = 0
        var line = 0
        while position < count {
            let recordStartLine = line
            let first = base[position]
            if first == newline {
                position += 1
                line += 1
                continue
            }
            if first == carriageReturn && position + 1 < count && base[position + 1] == newline {
                position += 2
                line += 1
                continue
            }
            var problem = RecordProblem.none
            fieldLoop: while true {
                if position < count && base[position] == quote {
                    position += 1
                    let outStart = scratchUsed
                    var closed = false
                    while position < count {
                        let byte = base[position]
                        if byte == quote {
                            if position + 1 < count && base[position + 1] == quote {
                                scratch[scratchUsed] = quote
                                scratchUsed += 1
                                position += 2
                                continue
                            }
                            position += 1
                            closed = true
                            break
                        }
                        if byte == newline { line += 1 }
                        scratch[scratchUsed] = byte
                        scratchUsed += 1
                        position += 1
                    }
                    starts.append(Int32(outStart))
                    lengths.append(Int32(scratchUsed - outStart))
                    guard closed else {
                        problem = .unterminatedQuote
                        break fieldLoop
                    }
                    if position == count { break fieldLoop }
                    let next = base[position]
                    if next == delimiter {
                        position += 1
                        continue fieldLoop
                    }
                    if next == newline {
                        position += 1
                        line += 1
                        break fieldLoop
                    }
                    if next == carriageReturn && position + 1 < count && base[position + 1] == newline {
                        position += 2
                        line += 1
                        break fieldLoop
                    }
                    problem = .textAfterQuote
                    while position < count && base[position] != newline { position += 1 }
                    if position < count {
                        position += 1
                        line += 1
                    }
                    break fieldLoop
                } else {
                    let start = position
                    // The next delimiter or line feed, from the table's marks (count if none).
                    if position < count {
                        var wordIndex = position >> 6
                        var word = separators[wordIndex] & (~0 << UInt64(position & 63))
                        while word == 0 && wordIndex + 1 < separatorWords {
                            wordIndex += 1
                            word = separators[wordIndex]
                        }
                        position = word == 0 ? count : wordIndex << 6 | word.trailingZeroBitCount
                    }
                    var end = position
                    if end > start && base[end - 1] == carriageReturn { end -= 1 }
                    starts.append(Int32(start))
                    lengths.append(Int32(end - start))
                    if position < count && base[position] == delimiter {
                        position += 1
                        continue fieldLoop
                    }
                    if position < count {
                        position += 1
                        line += 1
                    }
                    break fieldLoop
                }
            }
            firstField.append(Int32(starts.count))
            recordLine.append(Int32(recordStartLine))
            recordProblem.append(problem.rawValue)
        }
        table.fieldStarts = starts
        table.fieldLengths = lengths
        table.recordFirstField = firstField
        table.recordLine = recordLine
        table.recordProblem = recordProblem
        table.lines = line
        return table
    }

    /// The end of the last complete record in `block` (which starts at a record boundary), or
    /// 0 when it holds none. A quote only opens a quoted field at the start of a field, as in
    /// `tokenize`, so both always agree on where records end.
    func lastRecordEnd(_ block: UnsafeBufferPointer<UInt8>) -> Int {
        guard let base = block.baseAddress, block.count > 0 else { return 0 }
        let newline = UInt8(ascii: "\n")
        if memchr(base, Int32(quote), block.count) == nil {
            var position = block.count
            while position > 0 && base[position - 1] != newline { position -= 1 }
            return position
        }
        return recordEnd(block, first: false)
    }

    /// The end of the first record in `block` (its line end included), or the whole block when
    /// it holds a single unterminated record.
    func firstRecordEnd(_ block: UnsafeBufferPointer<UInt8>) -> Int {
        let end = recordEnd(block, first: true)
        return end == 0 ? block.count : end
    }

    /// The quote-aware scan both share: the end of the first (or last) complete record, 0 if none.
    private func recordEnd(_ block: UnsafeBufferPointer<UInt8>, first: Bool) -> Int {
        guard let base = block.baseAddress else { return 0 }
        let newline = UInt8(ascii: "\n")
        var lastEnd = 0
        var inQuotes = false
        var atFieldStart = true
        var position = 0
        let count = block.count
        while position < count {
            let byte = base[position]
            if inQuotes {
                if byte == quote {
                    if position + 1 < count && base[position + 1] == quote {
                        position += 2
                        continue
                    }
                    inQuotes = false
                }
            } else if byte == newline {
                lastEnd = position + 1
                if first { return lastEnd }
                atFieldStart = true
            } else if byte == delimiter {
                atFieldStart = true
            } else if byte == quote && atFieldStart {
                inQuotes = true
                atFieldStart = false
            } else {
                atFieldStart = false
            }
            position += 1
        }
        return lastEnd
    }
}
