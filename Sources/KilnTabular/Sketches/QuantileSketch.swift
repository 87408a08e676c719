import KilnCore

/// Quantiles of a stream of doubles. Exact (all values kept) while at most `exactLimit`
/// values were added; beyond that a KLL sketch (Karnin, Lang, Liberty 2016) with `k` = 1024,
/// whose rank error is below 0.5% of n with probability > 99% (`rankErrorBound`).
/// Mergeable; compaction choices come from a counter-based generator, so results are
/// deterministic for a given sequence of adds and merges. Callers pass only non-NaN values.
public struct QuantileSketch: Sendable {
    public static let exactLimit = 1 << 16
    public static let k = 1024
    /// The normalised rank error the KLL mode stays within (with probability > 99%).
    public static let rankErrorBound = 0.005

    /// Level h holds items of weight 2^h. While exact, only level 0 exists and is unbounded
    /// up to `exactLimit`.
    private var levels: [[Double]] = [[]]
    private var compactions: UInt64 = 0
    private var levelZeroCapacity = Int.max
    public private(set) var count = 0
    public private(set) var isExact = true

    public init() {}

    @inline(__always)
    public mutating func add(_ value: Double) {
        levels[0].append(value)
        count += 1
        if isExact {
            if count > Self.exactLimit { isExact = false; compress() }
        } else if levels[0].count >= levelZeroCapacity {
            compress()
        }
    }

    /// Adds many values: the same sketch as adding them one by one, appended in runs between
    /// the points where a one-by-one add would compact.
    public mutating func add(contentsOf values: UnsafeBufferPointer<Double>) {
        var start = 0
        while start < values.count {
            // Values that fit before the next compaction (the one that triggers it included).
            let room = isExact ? Self.exactLimit + 1 - count : levelZeroCapacity - levels[0].count
            let end = min(values.count, start + max(room, 1))
            levels[0].append(contentsOf: values[start..<end])
            count += end - start
            if isExact {
                if count > Self.exactLimit { isExact = false; compress() }
            } else if levels[0].count >= levelZeroCapacity {
                compress()
            }
            start = end
        }
    }

    public mutating func merge(_ other: QuantileSketch) {
        while levels.count < other.levels.count { levels.append([]) }
        for (level, items) in other.levels.enumerated() { levels[level].append(contentsOf: items) }
        count += other.count
        if isExact && other.isExact && count <= Self.exactLimit { return }
        isExact = false
        compress()
    }

    private func capacity(_ level: Int) -> Int {
        let depth = levels.count - 1 - level
        return max(2, Int((Double(Self.k) * pow(2.0 / 3.0, Double(depth))).rounded(.up)))
    }

    private var retained: Int { levels.reduce(0) { $0 + $1.count } }

    /// Compacts every level at or over its capacity, lowest first (a compaction can push the
    /// next level over, and adding a level lowers the capacities below it).
    private mutating func compress() {
        var level = 0
        while level < levels.count {
            if levels[level].count >= capacity(level) {
                if level + 1 == levels.count { levels.append([]) }
                compact(level)
                level = 0
                continue
            }
            level += 1
        }
        levelZeroCapacity = capacity(0)
    }

    /// Sorts the exact buffer (the result is the same; a merge of sorted buffers into a KLL
    /// sketch then compacts by merging runs instead of sorting). For partial sketches built on
    /// worker threads before a sequential merge.
    public mutating func sortValues() {
        if isExact { RadixSort.sort(&levels[0]) }
    }

    /// Sorts a level and promotes every other item (starting at a random offset) one level up.
    private mutating func compact(_ level: Int) {
        var items = levels[level]
        levels[level] = []
        Self.sortRuns(&items)
        if items.count % 2 == 1 { levels[level].append(items.removeLast()) }
        compactions += 1
        let offset = Int(Philox(seed: 0x4B4C_4C53).block(stream: UInt64(level), counter: compactions).x & 1)
        var promoted: [Double] = []
        promoted.reserveCapacity(items.count / 2)
        var index = offset
        while index < items.count {
            promoted.append(items[index])
            index += 2
        }
        levels[level + 1].append(contentsOf: promoted)
    }

    /// Sorts `items`: nothing to do for one ascending run, a linear merge for two (a level is
    /// usually its sorted remainder plus one sorted promotion), a radix sort otherwise.
    static func sortRuns(_ items: inout [Double]) {
        var split = 1
        while split < items.count && items[split - 1] <= items[split] { split += 1 }
        if split >= items.count { return }
        var end = split + 1
        while end < items.count && items[end - 1] <= items[end] { end += 1 }
        guard end == items.count else {
            RadixSort.sort(&items)
            return
        }
        var merged: [Double] = []
        merged.reserveCapacity(items.count)
        var left = 0
        var right = split
        while left < split && right < items.count {
            if items[right] < items[left] {
                merged.append(items[right])
                right += 1
            } else {
                merged.append(items[left])
                left += 1
            }
        }
        merged.append(contentsOf: items[left..<split])
        merged.append(contentsOf: items[right...])
        items = merged
    }

    /// The items and weights, sorted by value.
    private func weightedItems() -> (values: [Double], weights: [Double]) {
        var pairs: [(Double, Double)] = []
        pairs.reserveCapacity(retained)
        for (level, items) in levels.enumerated() {
            let weight = Double(1 << level)
            for item in items { pairs.append((item, weight)) }
        }
        pairs.sort { $0.0 < $1.0 }
        return (pairs.map(\.0), pairs.map(\.1))
    }

    /// Quantiles at fractions `q` in [0, 1]. Exact mode interpolates linearly between order
    /// statistics (numpy's and pandas' default); KLL mode returns the smallest retained value
    /// whose cumulative weight reaches `q · n`. Empty when no value was added.
    public func quantiles(_ fractions: [Double]) -> [Double] {
        guard count > 0 else { return [] }
        if isExact {
            let sorted = levels[0].sorted()
            return fractions.map { fraction in
                let position = min(max(fraction, 0), 1) * Double(sorted.count - 1)
                let lower = Int(position.rounded(.down))
                let upper = min(lower + 1, sorted.count - 1)
                let weight = position - Double(lower)
                return weight == 0 ? sorted[lower] : sorted[lower] + (sorted[upper] - sorted[lower]) * weight
            }
        }
        let (values, weights) = weightedItems()
        let total = weights.reduce(0, +)
        var cumulative: [Double] = []
        cumulative.reserveCapacity(weights.count)
        var running = 0.0
        for weight in weights {
            running += weight
            cumulative.append(running)
        }
        return fractions.map { fraction in
            let target = min(max(fraction, 0), 1) * total
            var low = 0
            var high = cumulative.count - 1
            while low < high {
                let middle = (low + high) / 2
                if cumulative[middle] < target { low = middle + 1 } else { high = middle }
            }
            return values[low]
        }
    }

    public func quantile(_ fraction: Double) -> Double? { quantiles([fraction]).first }

    /// How many values lie below `value` (or at most `value` when `inclusive`), for each value
    /// asked (ascending or not): exact in exact mode, within the rank bound otherwise.
    public func counts(below values: [Double], inclusive: Bool) -> [Double] {
        let (items, weights) = isExact ? (levels[0].sorted(), []) : weightedItems()
        var cumulative: [Double] = []
        if !isExact {
            cumulative.reserveCapacity(weights.count)
            var running = 0.0
            for weight in weights {
                running += weight
                cumulative.append(running)
            }
        }
        return values.map { value in
            var low = 0
            var high = items.count
            while low < high {
                let middle = (low + high) / 2
                if inclusive ? items[middle] <= value : items[middle] < value { low = middle + 1 } else { high = middle }
            }
            if isExact { return Double(low) }
            return low == 0 ? 0 : cumulative[low - 1]
        }
    }

    public func encode(into writer: inout BinaryWriter) {
        writer.write(count)
        writer.write(isExact)
        writer.write(compactions)
        writer.write(levels.count)
        for items in levels { writer.write(items) }
    }

    public static func decode(from reader: inout BinaryReader) throws -> QuantileSketch {
        var sketch = QuantileSketch()
        sketch.count = try reader.readInt()
        sketch.isExact = try reader.readBool()
        sketch.compactions = try reader.readUInt64()
        let levelCount = try reader.readCount(elementBytes: 8)
        guard levelCount >= 1, levelCount < 64 else { throw KilnError.format("a quantile sketch has \(levelCount) levels") }
        sketch.levels = try (0..<levelCount).map { _ in try reader.readDoubles() }
        let weight = sketch.levels.enumerated().reduce(0) { $0 + $1.element.count << $1.offset }
        guard weight == sketch.count || !sketch.isExact && weight > 0 else {
            throw KilnError.format("a quantile sketch's items do not add up to its count")
        }
        if !sketch.isExact { sketch.levelZeroCapacity = sketch.capacity(0) }
        return sketch
    }
}

#if canImport(Glibc)
import Glibc
#endif
