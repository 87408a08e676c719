/// Conversions that the generic SIMD initialisers run lane by lane here (measured), written
/// instead as integer and float arithmetic on the bit patterns, which vectorises.
extension SIMD16 where Scalar == Int32 {
    /// Integers of magnitude below 2^22 as floats, exactly: placed in the mantissa of 1.5 · 2^23,
    /// which is then taken off.
    @inline(__always)
    var exactFloats: SIMD16<Float> {
        unsafeBitCast(self &+ SIMD16(repeating: 0x4B40_0000), to: SIMD16<Float>.self) - SIMD16<Float>(repeating: 12_582_912)
    }

    /// Lane-wise maximum through the sign of the difference (which must fit in 32 bits).
    @inline(__always)
    static func maximum(_ a: Self, _ b: Self) -> Self { let d = a &- b; return a &- (d & (d &>> 31)) }

    /// Lane-wise minimum through the sign of the difference (which must fit in 32 bits).
    @inline(__always)
    static func minimum(_ a: Self, _ b: Self) -> Self { let d = a &- b; return b &+ (d & (d &>> 31)) }
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

/// 16 interleaved RGB pixels (48 bytes, three 16-byte vectors) split into channels and back,
/// with constant shuffles.
enum PackedRGB {
    /// The pixels at `source` (48 bytes) as three channels of 32-bit lanes: one 64-byte vector
    /// and constant shuffles with zeros.
    @inline(__always)
    static func load(_ source: UnsafeRawPointer) -> (SIMD16<Int32>, SIMD16<Int32>, SIMD16<Int32>) {
        let a = source.loadUnaligned(as: SIMD16<UInt8>.self)
        let b = source.loadUnaligned(fromByteOffset: 16, as: SIMD16<UInt8>.self)
        let d = source.loadUnaligned(fromByteOffset: 32, as: SIMD16<UInt8>.self)
        let x = SIMD64(lowHalf: SIMD32(lowHalf: a, highHalf: b), highHalf: SIMD32(lowHalf: d, highHalf: SIMD16()))
        @inline(__always) func words(_ c: Int) -> SIMD16<Int32> {
            @inline(__always) func four(_ i: Int) -> SIMD16<UInt8> {
                SIMD16(x[i], 0, 0, 0, x[i + 3], 0, 0, 0, x[i + 6], 0, 0, 0, x[i + 9], 0, 0, 0)
            }
            let bytes = SIMD64(lowHalf: SIMD32(lowHalf: four(c), highHalf: four(c + 12)),
                               highHalf: SIMD32(lowHalf: four(c + 24), highHalf: four(c + 36)))
            return unsafeBitCast(bytes, to: SIMD16<Int32>.self)
        }
        return (words(0), words(1), words(2))
    }

    /// The inverse of `load` for lanes holding 0...255: the channels packed into each lane's low
    /// three bytes, then three constant shuffles of those 64 bytes.
    @inline(__always)
    static func store(_ r: SIMD16<Int32>, _ g: SIMD16<Int32>, _ b: SIMD16<Int32>, to target: UnsafeMutableRawPointer) {
        let x = unsafeBitCast(r | g &<< 8 | b &<< 16, to: SIMD64<UInt8>.self)
        target.storeBytes(of: SIMD16(x[0], x[1], x[2], x[4], x[5], x[6], x[8], x[9], x[10], x[12], x[13], x[14], x[16], x[17], x[18], x[20]),
                          as: SIMD16<UInt8>.self)
        target.storeBytes(of: SIMD16(x[21], x[22], x[24], x[25], x[26], x[28], x[29], x[30], x[32], x[33], x[34], x[36], x[37], x[38], x[40], x[41]),
                          toByteOffset: 16, as: SIMD16<UInt8>.self)
        target.storeBytes(of: SIMD16(x[42], x[44], x[45], x[46], x[48], x[49], x[50], x[52], x[53], x[54], x[56], x[57], x[58], x[60], x[61], x[62]),
                          toByteOffset: 32, as: SIMD16<UInt8>.self)
    }
}
