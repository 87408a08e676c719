import CKilnSupport

/// A growable array of trivial values without per-append uniqueness checks, for the
/// tokenizer's hot loop. Owned by a `TokenTable`, which frees it.
struct RawBuffer<Element> {
    private(set) var pointer: UnsafeMutablePointer<Element>
    private(set) var count = 0
    private var capacity: Int

    init(capacity: Int) {
        self.capacity = max(capacity, 16)
        pointer = .allocate(capacity: self.capacity)
    }

    @inline(__always)
    mutating func append(_ value: Element) {
        if count == capacity { grow() }
        pointer[count] = value
        count += 1
    }

    @inline(__always)
    subscript(index: Int) -> Element { pointer[index] }

    mutating func removeAll() { count = 0 }

    /// Makes room for `needed` elements in total, discarding the contents.
    mutating func reset(capacity needed: Int) {
        count = 0
        if needed > capacity {
            pointer.deallocate()
            capacity = needed
            pointer = .allocate(capacity: needed)
        }
    }

    private mutating func grow() {
        let bigger = UnsafeMutablePointer<Element>.allocate(capacity: capacity * 2)
        bigger.moveInitialize(from: pointer, count: count)
        pointer.deallocate()
        pointer = bigger
        capacity *= 2
    }

    func free() { pointer.deallocate() }
}

/// The fields of one block: the block's bytes (followed by room for unescaped quoted fields),
/// where in them the delimiters and line feeds are, where every field starts and how long it
/// is, and per record its first field, its first line (0-based in the block) and any
/// tokenizer-level problem.
final class TokenTable {
    private(set) var text: UnsafeMutablePointer<UInt8>
    private var textCapacity: Int
    /// Bit i % 64 of word i / 64 is set when byte i of the block is the delimiter or a line feed.
    private(set) var separators: UnsafeMutablePointer<UInt64>
    private var separatorWords: Int
    private(set) var blockCount: Int
    var fieldStarts: RawBuffer<Int32>
    var fieldLengths: RawBuffer<Int32>
    var recordFirstField: RawBuffer<Int32>
    var recordLine: RawBuffer<Int32>
    var recordProblem: RawBuffer<UInt8>
    var lines = 0

    init() {
        blockCount = 0
        textCapacity = 1
        text = .allocate(capacity: 1)
        separatorWords = 1
        separators = .allocate(capacity: 1)
        fieldStarts = RawBuffer(capacity: 16)
        fieldLengths = RawBuffer(capacity: 16)
        recordFirstField = RawBuffer(capacity: 16)
        recordLine = RawBuffer(capacity: 16)
        recordProblem = RawBuffer(capacity: 16)
    }

    /// Takes a copy of `block` (with room after it for unescaped quoted fields), marks its
    /// separators and clears the records, reusing the buffers of earlier blocks when they are
    /// large enough.
    func reset(block: UnsafeBufferPointer<UInt8>, delimiter: UInt8, expectedRecords: Int, fieldsPerRecord: Int) {
        blockCount = block.count
        if 2 * block.count + 8 > textCapacity {
            text.deallocate()
            textCapacity = 2 * block.count + 8
            text = .allocate(capacity: textCapacity)
        }
        if (block.count + 63) / 64 > separatorWords {
            separators.deallocate()
            separatorWords = (block.count + 63) / 64
            separators = .allocate(capacity: separatorWords)
        }
        if let base = block.baseAddress {
            ckiln_copy_marking_bytes(base, text, block.count, delimiter, UInt8(ascii: "\n"), separators)
        }
        fieldStarts.reset(capacity: expectedRecords * fieldsPerRecord)
        fieldLengths.reset(capacity: expectedRecords * fieldsPerRecord)
        recordFirstField.reset(capacity: expectedRecords + 1)
        recordLine.reset(capacity: expectedRecords)
        recordProblem.reset(capacity: expectedRecords)
        recordFirstField.append(0)
        lines = 0
    }

    deinit {
        text.deallocate()
        separators.deallocate()
        fieldStarts.free()
        fieldLengths.free()
        recordFirstField.free()
        recordLine.free()
        recordProblem.free()
    }

    var recordCount: Int { recordLine.count }

    @inline(__always)
    func fieldCount(_ record: Int) -> Int { Int(recordFirstField[record + 1] - recordFirstField[record]) }

    /// Field `field` of record `record` (which must have it).
    @inline(__always)
    func field(_ record: Int, _ field: Int) -> UnsafeBufferPointer<UInt8> {
        let index = Int(recordFirstField[record]) + field
        return UnsafeBufferPointer(start: text + Int(fieldStarts[index]), count: Int(fieldLengths[index]))
    }

    func fields(_ record: Int) -> [UnsafeBufferPointer<UInt8>] {
        (0..<fieldCount(record)).map { field(record, $0) }
    }
}

/// Why a record is malformed at the tokenizer level.
enum RecordProblem: UInt8 {
    case none = 0
    case unterminatedQuote = 1
    case textAfterQuote = 2

    var reason: String {
        switch self {
        case .none: ""
        case .unterminatedQuote: "unterminated quoted field"
        case .textAfterQuote: "text after a closing quote"
        }
    }
}
