/// One field of a record: bytes in the block, or (when it was quoted) in the tokenizer's
/// scratch buffer, unescaped.
struct FieldSpan {
    var start: UnsafePointer<UInt8>
    var count: Int

    @inline(__always)
    var bytes: UnsafeBufferPointer<UInt8> { UnsafeBufferPointer(start: start, count: count) }
}

/// Why a record is malformed at the tokenizer level.
enum RecordProblem: String {
    case unterminatedQuote = "unterminated quoted field"
    case textAfterQuote = "text after a closing quote"
}

/// Splits a block of CSV bytes (starting at a record boundary) into records and fields,
/// following RFC 4180: fields may be quoted, `""` inside quotes is a quote, quoted fields may
/// hold delimiters and line breaks; lines end in LF or CRLF; blank lines are skipped. A quote
/// inside an unquoted field is an ordinary character.
struct CSVTokenizer {
    let delimiter: UInt8
    let quote: UInt8

    /// Calls `body` per record with its fields (up to `maxFields` stored; `fieldCount` counts
    /// them all), the record's first line (0-based within the block) and a problem if the
    /// record is malformed. `body` returns false to stop. Returns the number of line feeds
    /// consumed.
    @discardableResult
    func forEachRecord(
        _ block: UnsafeBufferPointer<UInt8>, maxFields: Int,
        _ body: (_ fields: UnsafeBufferPointer<FieldSpan>, _ fieldCount: Int, _ line: Int, _ problem: RecordProblem?) -> Bool
    ) -> Int {
        guard let base = block.baseAddress, block.count > 0 else { return 0 }
        let count = block.count
        let scratch = UnsafeMutablePointer<UInt8>.allocate(capacity: count)
        defer { scratch.deallocate() }
        let fields = UnsafeMutablePointer<FieldSpan>.allocate(capacity: max(maxFields, 1))
        defer { fields.deallocate() }
        let newline = UInt8(ascii: "\n")
        let carriageReturn = UInt8(ascii: "\r")
        var position = 0
        var line = 0
        records: while position < count {
            let recordLine = line
            if base[position] == newline {
                position += 1
                line += 1
                continue
            }
            if base[position] == carriageReturn && position + 1 < count && base[position + 1] == newline {
                position += 2
                line += 1
                continue
            }
            var fieldCount = 0
            var scratchUsed = 0
            var problem: RecordProblem? = nil
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
                    if fieldCount < maxFields {
                        fields[fieldCount] = FieldSpan(start: scratch + outStart, count: scratchUsed - outStart)
                    }
                    fieldCount += 1
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
                    while position < count {
                        let byte = base[position]
                        if byte == delimiter || byte == newline { break }
                        position += 1
                    }
                    var end = position
                    if end > start && base[end - 1] == carriageReturn { end -= 1 }
                    if fieldCount < maxFields {
                        fields[fieldCount] = FieldSpan(start: base + start, count: end - start)
                    }
                    fieldCount += 1
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
            let stored = UnsafeBufferPointer(start: fields, count: min(fieldCount, maxFields))
            if !body(stored, fieldCount, recordLine, problem) { break records }
        }
        return line
    }

    /// The end of the last complete record in `block` (which starts at a record boundary), or
    /// 0 when it holds none. A quote only opens a quoted field at the start of a field, as in
    /// `forEachRecord`, so both always agree on where records end.
    func lastRecordEnd(_ block: UnsafeBufferPointer<UInt8>) -> Int {
        guard let base = block.baseAddress, block.count > 0 else { return 0 }
        let newline = UInt8(ascii: "\n")
        if memchr(base, Int32(quote), block.count) == nil {
            var position = block.count
            while position > 0 && base[position - 1] != newline { position -= 1 }
            return position
        }
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

#if canImport(Glibc)
import Glibc
#endif
