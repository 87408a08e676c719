/// A packed bit per row: the validity (present/missing) of a column's values.
public struct Bitmap: Sendable, Equatable {
    public private(set) var words: [UInt64]
    public private(set) var count: Int

    public init() {
        words = []
        count = 0
    }

    /// Bits packed 64 per word, least significant first; bits past `count` must be zero.
    public init(words: [UInt64], count: Int) {
        precondition(words.count == (count + 63) / 64)
        self.words = words
        self.count = count
    }

    public init(repeating value: Bool, count: Int) {
        words = [UInt64](repeating: value ? ~0 : 0, count: (count + 63) / 64)
        self.count = count
        clearTail()
    }

    public subscript(index: Int) -> Bool {
        get { words[index >> 6] & (1 << UInt64(index & 63)) != 0 }
        set {
            let bit: UInt64 = 1 << UInt64(index & 63)
            if newValue { words[index >> 6] |= bit } else { words[index >> 6] &= ~bit }
        }
    }

    @inline(__always)
    public mutating func append(_ value: Bool) {
        if count & 63 == 0 { words.append(0) }
        if value { words[count >> 6] |= 1 << UInt64(count & 63) }
        count += 1
    }

    public mutating func append(contentsOf other: Bitmap) {
        if count & 63 == 0 {
            words.append(contentsOf: other.words)
            count += other.count
            return
        }
        for index in 0..<other.count { append(other[index]) }
    }

    public mutating func reserveCapacity(_ bits: Int) { words.reserveCapacity((bits + 63) / 64) }

    /// Keeps the first `newCount` bits.
    public mutating func truncate(to newCount: Int) {
        precondition(newCount <= count)
        count = newCount
        words.removeLast(words.count - (newCount + 63) / 64)
        clearTail()
    }

    /// The number of set bits.
    public var setCount: Int { words.reduce(0) { $0 + $1.nonzeroBitCount } }

    private mutating func clearTail() {
        if count & 63 != 0 { words[words.count - 1] &= (1 << UInt64(count & 63)) - 1 }
    }
}
