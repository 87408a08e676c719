/// Conversions that the generic SIMD initialisers run lane by lane here (measured), written
/// instead as integer and float arithmetic on the bit patterns, which vectorises.
extension SIMD16 where Scalar == Int32 {
    /// Integers of magnitude below 2^22 as floats, exactly: placed in the mantissa of 1.5 · 2^23,
    /// which is then taken off.
    @inline(__always)
    var exactFloats: SIMD16<Float> {
        unsafeBitCast(self &+ SIMD16(repeating: 0x4B40_0000), to: SIMD16<Float>.self) - SIMD16<Float>(repeating: 12_582_912)
    }
}

extension SIMD16 where Scalar == Float {
    /// Rounded half to even, as integers, for magnitudes below 2^22: adding 1.5 · 2^23 puts the
    /// integer in the low mantissa bits.
    @inline(__always)
    var roundedIntegers: SIMD16<Int32> {
        unsafeBitCast(self + SIMD16(repeating: 12_582_912), to: SIMD16<Int32>.self) &- SIMD16<Int32>(repeating: 0x4B40_0000)
    }

    /// `rounded(.down)` as integers, and what is left (exactly), for magnitudes below 2^22:
    /// rounded to nearest, then one taken off where that went up.
    @inline(__always)
    var floorAndFraction: (SIMD16<Int32>, SIMD16<Float>) {
        let nearest = roundedIntegers
        let difference = self - nearest.exactFloats  // exact, in [-0.5, 0.5]
        let down = unsafeBitCast(difference, to: SIMD16<Int32>.self) &>> 31  // -1 where nearest went up
        return (nearest &+ down, difference - down.exactFloats)
    }
}
