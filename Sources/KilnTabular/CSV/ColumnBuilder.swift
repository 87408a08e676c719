/// Accumulates one column's values from field bytes.
final class ColumnBuilder {
    let type: ColumnType
    private(set) var count = 0
    private var floats: [Double] = []
    private var ints: [Int64] = []
    private var bools: [Bool] = []
    private var strings = StringArray()
    private var validity = Bitmap()

    init(type: ColumnType, capacity: Int) {
        self.type = type
        validity.reserveCapacity(capacity)
        switch type {
        case .float: floats.reserveCapacity(capacity)
        case .int: ints.reserveCapacity(capacity)
        case .bool: bools.reserveCapacity(capacity)
        case .string: strings.reserveCapacity(values: capacity, bytes: capacity * 8)
        }
    }

    @inline(__always)
    func appendMissing() {
        switch type {
        case .float: floats.append(0)
        case .int: ints.append(0)
        case .bool: bools.append(false)
        case .string: strings.appendEmpty()
        }
        validity.append(false)
        count += 1
    }

    /// Appends a present value; false (and nothing appended) when it does not parse.
    @inline(__always)
    func append(_ text: UnsafeBufferPointer<UInt8>) -> Bool {
        switch type {
        case .float:
            guard let value = TextNumbers.parseDouble(text) else { return false }
            floats.append(value)
        case .int:
            guard let value = TextNumbers.parseInt(text) else { return false }
            ints.append(value)
        case .bool:
            guard let value = TextNumbers.parseBool(text) else { return false }
            bools.append(value)
        case .string:
            strings.append(text)
        }
        validity.append(true)
        count += 1
        return true
    }

    func truncate(to newCount: Int) {
        guard newCount < count else { return }
        switch type {
        case .float: floats.removeLast(count - newCount)
        case .int: ints.removeLast(count - newCount)
        case .bool: bools.removeLast(count - newCount)
        case .string: strings.truncate(to: newCount)
        }
        validity.truncate(to: newCount)
        count = newCount
    }

    func finish(name: String) throws -> Column {
        let values: ColumnValues
        switch type {
        case .float: values = .float(floats)
        case .int: values = .int(ints)
        case .bool: values = .bool(bools)
        case .string: values = .string(strings)
        }
        return try Column(name: name, values: values, validity: validity)
    }
}
