/// One selected column of a block, converted from text a range of records at a time: the
/// block parser converts every column over a few hundred kilobytes of records before moving
/// on, so each column's pass finds the records' text and tokens still in cache.
struct ColumnConversion {
    let fieldIndex: Int
    let field: Field
    private let count: Int
    private var validity: [UInt64]
    private var doubles: [Double] = []
    private var ints: [Int64] = []
    private var bools: [Bool] = []
    /// A string column's bytes (room for every field's text; missing values take none) and
    /// where each value ends, `stringOffsets[position + 1]`.
    private var stringBytes: [UInt8] = []
    private var stringOffsets: [Int] = []
    private var stringBytesUsed = 0
    /// Positions (in the block's rows) whose text does not parse as the type.
    private(set) var failures: [Int] = []

    init(fieldIndex: Int, field: Field, tokens: TokenTable, rows: [Int32]) {
        self.fieldIndex = fieldIndex
        self.field = field
        count = rows.count
        validity = [UInt64](repeating: 0, count: (count + 63) / 64)
        switch field.type {
        case .float: doubles = [Double](repeating: 0, count: count)
        case .int: ints = [Int64](repeating: 0, count: count)
        case .bool: bools = [Bool](repeating: false, count: count)
        case .string:
            var total = 0
            for record in rows { total += tokens.field(Int(record), fieldIndex).count }
            stringBytes = [UInt8](unsafeUninitializedCapacity: total) { $1 = total }
            stringOffsets = [Int](repeating: 0, count: count + 1)
        }
    }

    /// Converts the records at `positions` (indices into `rows`, in order, continuing the
    /// previous call's); with `stopAtFirstFailure`, stops at the column's first failure.
    mutating func convert(
        _ positions: Range<Int>, tokens: TokenTable, rows: UnsafeBufferPointer<Int32>, missing: MissingTokens,
        stopAtFirstFailure: Bool
    ) {
        let fieldIndex = self.fieldIndex
        @inline(__always) func text(_ position: Int) -> UnsafeBufferPointer<UInt8> { tokens.field(Int(rows[position]), fieldIndex) }
        validity.withUnsafeMutableBufferPointer { validity in
            @inline(__always) func markValid(_ position: Int) { validity[position >> 6] |= 1 << UInt64(position & 63) }
            /// Parses each present value with `parse` into `output`, noting the failures.
            @inline(__always) func parseAll<T>(_ output: inout [T], _ parse: (UnsafeBufferPointer<UInt8>) -> T?) {
                output.withUnsafeMutableBufferPointer { output in
                    for position in positions {
                        let text = text(position)
                        if missing.contains(text) { continue }
                        guard let value = parse(text) else {
                            failures.append(position)
                            if stopAtFirstFailure { break } else { continue }
                        }
                        output[position] = value
                        markValid(position)
                    }
                }
            }
            switch field.type {
            case .float: parseAll(&doubles, TextNumbers.parseDouble)
            case .int: parseAll(&ints, TextNumbers.parseInt)
            case .bool: parseAll(&bools, TextNumbers.parseBool)
            case .string:
                stringBytes.withUnsafeMutableBufferPointer { bytes in
                    stringOffsets.withUnsafeMutableBufferPointer { offsets in
                        var used = stringBytesUsed
                        for position in positions {
                            let text = text(position)
                            if !missing.contains(text) {
                                if !text.isEmpty { (bytes.baseAddress! + used).update(from: text.baseAddress!, count: text.count) }
                                used += text.count
                                markValid(position)
                            }
                            offsets[position + 1] = used
                        }
                        stringBytesUsed = used
                    }
                }
            }
        }
    }

    /// The converted column (of every record, once all were converted), its buffers moved out.
    mutating func takeColumn() -> Column {
        let values: ColumnValues
        switch field.type {
        case .float: values = .float(doubles)
        case .int: values = .int(ints)
        case .bool: values = .bool(bools)
        case .string:
            var bytes = stringBytes
            stringBytes = []
            bytes.removeLast(bytes.count - stringBytesUsed)
            values = .string(StringArray(offsets: stringOffsets, bytes: bytes))
        }
        // A column stopped early (error policy) is discarded by the caller.
        return (try? Column(name: field.name, values: values, validity: Bitmap(words: validity, count: count)))!
    }
}
