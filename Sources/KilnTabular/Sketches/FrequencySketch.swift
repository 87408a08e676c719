import KilnCore

/// Value counts for vocabularies and top-k: exact while the number of distinct values stays
/// within `capacity`; beyond it, a Misra–Gries summary (counts are then lower bounds, each at
/// most `errorBound` below the truth, and every value more frequent than n / capacity is kept).
/// Mergeable: merging partial sketches gives the counts of the concatenated data (exactly
/// while the union stays within capacity).
public struct FrequencySketch: Sendable {
    public private(set) var table = ByteStringTable()
    public private(set) var counts: [Int] = []
    public let capacity: Int
    /// The largest amount by which a reported count may fall short (0 while exact).
    public private(set) var errorBound = 0
    /// Values added, including those no longer tracked.
    public private(set) var total = 0

    public init(capacity: Int = 1 << 18) {
        self.capacity = max(capacity, 16)
    }

    public var isExact: Bool { errorBound == 0 }

    /// Counts `value`, returning its id in `table` (stable while the sketch stays exact: a
    /// reduction renumbers the values).
    @inline(__always) @discardableResult
    public mutating func add(_ value: UnsafeBufferPointer<UInt8>, count: Int = 1) -> Int {
        add(value, hash: ByteStringTable.keyHash(value), count: count)
    }

    /// As `add(_:count:)`, with the value's `ByteStringTable.keyHash` already computed.
    @inline(__always) @discardableResult
    public mutating func add(_ value: UnsafeBufferPointer<UInt8>, hash: UInt64, count: Int = 1) -> Int {
        total += count
        let (id, inserted) = table.insert(value, hash: hash)
        if inserted {
            counts.append(count)
            if table.count > 2 * capacity { reduce() }
        } else {
            counts[id] += count
        }
        return id
    }

    @discardableResult
    public mutating func add(_ value: String, count: Int = 1) -> Int {
        var copy = value
        return copy.withUTF8 { add($0, count: count) }
    }

    /// Adds `other`'s counts, returning the id each of its values has here (by its id there;
    /// meaningful while this sketch stays exact).
    @discardableResult
    public mutating func merge(_ other: FrequencySketch) -> [Int32] {
        let before = total
        var mergedIDs = [Int32](repeating: 0, count: other.table.count)
        mergedIDs.withUnsafeMutableBufferPointer { mergedIDs in
            other.counts.withUnsafeBufferPointer { counts in
                other.table.forEachKey { id, key, hash in
                    mergedIDs[id] = Int32(truncatingIfNeeded: add(key, hash: hash, count: counts[id]))
                }
            }
        }
        total = before + other.total
        errorBound += other.errorBound
        if table.count > 2 * capacity { reduce() }
        return mergedIDs
    }

    /// The count of `value` (a lower bound when not exact).
    public func count(of value: String) -> Int {
        table.find(value).map { counts[$0] } ?? 0
    }

    /// Values by descending count, ties by ascending byte order; at most `limit`, and only
    /// those with a count of at least `minimumCount`.
    public func top(_ limit: Int = .max, minimumCount: Int = 1) -> [(value: String, count: Int)] {
        var threshold = minimumCount
        if limit < table.count {
            // Only values at least as frequent as the limit-th count can be among the top.
            let sortedCounts = counts.sorted(by: >)
            threshold = max(threshold, sortedCounts[max(limit - 1, 0)])
        }
        var ids = (0..<table.count).filter { counts[$0] >= threshold }
        let keys = ids.map { table.withKey($0) { Array($0) } }
        var order = Array(ids.indices)
        order.sort { left, right in
            let a = counts[ids[left]]
            let b = counts[ids[right]]
            if a != b { return a > b }
            return keys[left].lexicographicallyPrecedes(keys[right])
        }
        ids = order.prefix(limit).map { ids[$0] }
        return ids.map { (table.key($0), counts[$0]) }
    }

    /// Keeps the `capacity` most frequent values, subtracting the next count from all
    /// (Misra–Gries with a batch decrement). Runs when twice the capacity is reached, so its
    /// cost is spread over as many new values. Reported results are reduced to the capacity.
    private mutating func reduce() {
        let sorted = counts.sorted(by: >)
        let cut = sorted[capacity]
        var kept = ByteStringTable()
        var keptCounts: [Int] = []
        for id in 0..<table.count where counts[id] > cut {
            table.withKey(id) { _ = kept.insert($0) }
            keptCounts.append(counts[id] - cut)
        }
        table = kept
        counts = keptCounts
        errorBound += cut
    }

    public func encode(into writer: inout BinaryWriter) {
        writer.write(capacity)
        writer.write(total)
        writer.write(errorBound)
        writer.write(table.count)
        for id in 0..<table.count {
            table.withKey(id) { writer.write($0) }
            writer.write(counts[id])
        }
    }

    public static func decode(from reader: inout BinaryReader) throws -> FrequencySketch {
        var sketch = FrequencySketch(capacity: try reader.readInt())
        let total = try reader.readInt()
        let errorBound = try reader.readInt()
        let entries = try reader.readCount(elementBytes: 16)
        for _ in 0..<entries {
            let key = Array(try reader.readBytes())
            let count = try reader.readInt()
            guard count > 0 else { throw KilnError.format("a frequency sketch holds a count of \(count)") }
            key.withUnsafeBufferPointer { _ = sketch.add($0, count: count) }
        }
        sketch.total = total
        sketch.errorBound = errorBound
        return sketch
    }
}
