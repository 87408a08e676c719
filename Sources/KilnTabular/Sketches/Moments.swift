/// Count, mean, variance, minimum and maximum of a stream of doubles, mergeable (Chan et
/// al.'s pairwise update): merging partial moments equals one pass over the concatenated data
/// exactly for the count, minimum and maximum, and to within rounding (relative 1e-12 on real
/// data) for the mean and variance. Callers pass only finite values; NaN and infinity are
/// counted by the caller.
public struct Moments: Sendable, Equatable {
    public private(set) var count = 0
    public private(set) var mean = 0.0
    /// The sum of squared deviations from the mean.
    public private(set) var m2 = 0.0
    public private(set) var min = Double.infinity
    public private(set) var max = -Double.infinity
    public private(set) var sum = 0.0

    public init() {}

    @inline(__always)
    public mutating func add(_ value: Double) {
        count += 1
        let delta = value - mean
        mean += delta / Double(count)
        m2 += delta * (value - mean)
        sum += value
        if value < min { min = value }
        if value > max { max = value }
    }

    /// Adds many values at once: their own count, mean and squared deviations by the two-pass
    /// formulas (eight running sums, no division per value), merged in.
    public mutating func add(contentsOf values: UnsafeBufferPointer<Double>) {
        guard !values.isEmpty else { return }
        var sums = SIMD8<Double>()
        var lows = SIMD8<Double>(repeating: .infinity)
        var highs = SIMD8<Double>(repeating: -.infinity)
        let whole = values.count & ~7
        var index = 0
        while index < whole {
            let lanes = SIMD8<Double>(values[index..<index + 8])
            sums += lanes
            lows = pointwiseMin(lows, lanes)
            highs = pointwiseMax(highs, lanes)
            index += 8
        }
        var batch = Moments()
        batch.sum = sums.sum()
        batch.min = lows.min()
        batch.max = highs.max()
        for value in values[whole...] {
            batch.sum += value
            batch.min = Swift.min(batch.min, value)
            batch.max = Swift.max(batch.max, value)
        }
        batch.count = values.count
        batch.mean = batch.sum / Double(values.count)
        var squares = SIMD8<Double>()
        let mean = SIMD8<Double>(repeating: batch.mean)
        index = 0
        while index < whole {
            let deviations = SIMD8<Double>(values[index..<index + 8]) - mean
            squares += deviations * deviations
            index += 8
        }
        batch.m2 = squares.sum()
        for value in values[whole...] { batch.m2 += (value - batch.mean) * (value - batch.mean) }
        merge(batch)
    }

    public mutating func merge(_ other: Moments) {
        guard other.count > 0 else { return }
        guard count > 0 else {
            self = other
            return
        }
        let total = count + other.count
        let delta = other.mean - mean
        mean += delta * Double(other.count) / Double(total)
        m2 += other.m2 + delta * delta * Double(count) * Double(other.count) / Double(total)
        count = total
        sum += other.sum
        min = Swift.min(min, other.min)
        max = Swift.max(max, other.max)
    }

    /// The population variance (divides by n), as scikit-learn's StandardScaler; 0 when empty.
    public var variance: Double { count > 0 ? Swift.max(m2 / Double(count), 0) : 0 }
    /// The sample variance (divides by n − 1), as pandas' `std()`; 0 below two values.
    public var sampleVariance: Double { count > 1 ? Swift.max(m2 / Double(count - 1), 0) : 0 }
    public var standardDeviation: Double { variance.squareRoot() }

    public func encode(into writer: inout BinaryWriter) {
        writer.write(count)
        writer.write(mean)
        writer.write(m2)
        writer.write(min)
        writer.write(max)
        writer.write(sum)
    }

    public static func decode(from reader: inout BinaryReader) throws -> Moments {
        var moments = Moments()
        moments.count = try reader.readInt()
        moments.mean = try reader.readDouble()
        moments.m2 = try reader.readDouble()
        moments.min = try reader.readDouble()
        moments.max = try reader.readDouble()
        moments.sum = try reader.readDouble()
        return moments
    }
}
