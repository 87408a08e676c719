/// Philox4x32-10, the counter-based generator of Salmon et al. (SC'11, "Parallel random numbers:
/// as easy as 1, 2, 3"), as in Random123.
///
/// Its output is a pure function of `(seed, stream, counter)`: sample *i* of an augmentation or a
/// sampler draws from stream *i*, so results do not depend on thread count, batch size or the
/// order in which samples are processed. Cost: 10 rounds of two 32×32→64 multiplies per four
/// 32-bit outputs; no state beyond the counter.
public struct Philox: Sendable, Hashable {
    public let seed: UInt64

    public init(seed: UInt64) { self.seed = seed }

    /// The four 32-bit words for one `(stream, counter)` pair.
    @inlinable
    public func block(stream: UInt64, counter: UInt64) -> SIMD4<UInt32> {
        Philox.philox4x32(
            counter: SIMD4(UInt32(truncatingIfNeeded: counter), UInt32(truncatingIfNeeded: counter >> 32),
                           UInt32(truncatingIfNeeded: stream), UInt32(truncatingIfNeeded: stream >> 32)),
            key: SIMD2(UInt32(truncatingIfNeeded: seed), UInt32(truncatingIfNeeded: seed >> 32)))
    }

    /// A sequential generator over one stream, starting at counter 0.
    public func stream(_ stream: UInt64) -> PhiloxStream { PhiloxStream(philox: self, stream: stream) }

    /// The raw Philox4x32 bijection with 10 rounds (Random123's `philox4x32_R(10, ctr, key)`).
    @inlinable
    public static func philox4x32(counter: SIMD4<UInt32>, key: SIMD2<UInt32>) -> SIMD4<UInt32> {
        var c = counter
        var k = key
        for round in 0..<10 {
            if round > 0 { k &+= SIMD2(0x9E37_79B9, 0xBB67_AE85) }
            let p0 = UInt64(0xD251_1F53) &* UInt64(c[0])
            let p1 = UInt64(0xCD9E_8D57) &* UInt64(c[2])
            c = SIMD4(
                UInt32(truncatingIfNeeded: p1 >> 32) ^ c[1] ^ k[0], UInt32(truncatingIfNeeded: p1),
                UInt32(truncatingIfNeeded: p0 >> 32) ^ c[3] ^ k[1], UInt32(truncatingIfNeeded: p0))
        }
        return c
    }

    /// A float uniform in [0, 1) from the top 24 bits of `bits`: every value is a multiple of 2⁻²⁴.
    @inlinable
    public static func unitFloat(_ bits: UInt32) -> Float { Float(bits >> 8) * 0x1p-24 }

    /// A double uniform in [0, 1) from 53 bits of `bits`.
    @inlinable
    public static func unitDouble(_ bits: UInt64) -> Double { Double(bits >> 11) * 0x1p-53 }
}

/// Draws numbers one after another from one Philox stream. Also a `RandomNumberGenerator`, so
/// `Int.random(in:using:)` and `shuffle(using:)` work with it reproducibly.
public struct PhiloxStream: RandomNumberGenerator, Sendable {
    public let philox: Philox
    public let stream: UInt64
    /// The next block's counter.
    public private(set) var counter: UInt64 = 0
    private var buffer = SIMD4<UInt32>()
    private var used = 4

    public init(philox: Philox, stream: UInt64) {
        self.philox = philox
        self.stream = stream
    }

    public mutating func nextUInt32() -> UInt32 {
        if used == 4 {
            buffer = philox.block(stream: stream, counter: counter)
            counter &+= 1
            used = 0
        }
        defer { used += 1 }
        return buffer[used]
    }

    public mutating func next() -> UInt64 {
        UInt64(nextUInt32()) << 32 | UInt64(nextUInt32())
    }

    /// Uniform in [0, 1).
    public mutating func nextUnitFloat() -> Float { Philox.unitFloat(nextUInt32()) }

    /// Uniform in [0, 1).
    public mutating func nextUnitDouble() -> Double { Philox.unitDouble(next()) }

    /// Uniform in `range` (a float in [lower, upper)).
    public mutating func nextFloat(in range: ClosedRange<Float>) -> Float {
        range.lowerBound + (range.upperBound - range.lowerBound) * nextUnitFloat()
    }

    /// Standard normal, by Box–Muller on two uniforms.
    public mutating func nextNormal() -> Double {
        let u1 = 1 - nextUnitDouble()  // (0, 1]: log stays finite
        let u2 = nextUnitDouble()
        return (-2 * _log(u1)).squareRoot() * _cos(2 * Double.pi * u2)
    }
}

#if canImport(Glibc)
import Glibc
@usableFromInline func _log(_ x: Double) -> Double { Glibc.log(x) }
@usableFromInline func _cos(_ x: Double) -> Double { Glibc.cos(x) }
#endif
