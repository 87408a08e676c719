/// Eisel and Lemire's fast decimal-to-double conversion ("Number Parsing at a Gigabyte per
/// Second", 2021), as in Go's strconv and fast_float: `mantissa × 10^exponent` correctly
/// rounded from one or two 64×64-bit multiplications by a 128-bit approximation of the power of
/// ten, or nil in the rare ambiguous cases (the caller then falls back to `strtod`).
enum EiselLemire {
    static let minimumExponent = -348
    static let maximumExponent = 347

    /// The normalised 128-bit truncations of 10^e for e in minimumExponent...maximumExponent,
    /// as (high, low) words, computed exactly with multi-word integers once.
    static let powersOfTen: [(high: UInt64, low: UInt64)] = {
        var table: [(UInt64, UInt64)] = []
        table.reserveCapacity(maximumExponent - minimumExponent + 1)
        // Negative powers: floor(2^N / 10^k) for k = 348 ... 1, N large enough to keep 128 bits.
        var scaled = [UInt32](repeating: 0, count: 48)
        scaled[47] = 1 << 24  // 2^(47*32+24) = 2^1528
        var negatives: [(UInt64, UInt64)] = []
        for _ in 1...(-minimumExponent) {
            divideBy10(&scaled)
            negatives.append(top128(scaled))
        }
        table.append(contentsOf: negatives.reversed())
        var power = [UInt32](repeating: 0, count: 40)
        power[0] = 1
        table.append(top128(power))
        for _ in 1...maximumExponent {
            multiplyBy10(&power)
            table.append(top128(power))
        }
        return table
    }()

    private static func divideBy10(_ limbs: inout [UInt32]) {
        var remainder: UInt64 = 0
        for index in stride(from: limbs.count - 1, through: 0, by: -1) {
            let current = remainder << 32 | UInt64(limbs[index])
            limbs[index] = UInt32(current / 10)
            remainder = current % 10
        }
    }

    private static func multiplyBy10(_ limbs: inout [UInt32]) {
        var carry: UInt64 = 0
        for index in limbs.indices {
            let product = UInt64(limbs[index]) * 10 + carry
            limbs[index] = UInt32(truncatingIfNeeded: product)
            carry = product >> 32
        }
        if carry > 0 { limbs.append(UInt32(carry)) }
    }

    /// The top 128 bits of a multi-word integer, shifted so that bit 127 is set (truncated).
    private static func top128(_ limbs: [UInt32]) -> (UInt64, UInt64) {
        var highest = limbs.count - 1
        while limbs[highest] == 0 { highest -= 1 }
        let totalBits = highest * 32 + (32 - limbs[highest].leadingZeroBitCount)
        var high: UInt64 = 0
        var low: UInt64 = 0
        for bit in 0..<128 {
            let source = totalBits - 1 - bit
            var set = false
            if source >= 0 { set = limbs[source / 32] >> UInt32(source % 32) & 1 == 1 }
            if set {
                if bit < 64 { high |= 1 << UInt64(63 - bit) } else { low |= 1 << UInt64(127 - bit) }
            }
        }
        return (high, low)
    }

    @inline(__always)
    static func convert(_ mantissa: UInt64, _ exponent: Int, negative: Bool) -> Double? {
        if mantissa == 0 { return negative ? -0.0 : 0 }
        guard exponent >= minimumExponent && exponent <= maximumExponent else { return nil }
        let power = powersOfTen[exponent - minimumExponent]
        let leading = mantissa.leadingZeroBitCount
        let normalized = mantissa << UInt64(leading)
        var exponent2 = UInt64(bitPattern: Int64((217706 * exponent) >> 16 + 64 + 1023)) &- UInt64(leading)
        var (xHigh, xLow) = normalized.multipliedFullWidth(by: power.high)
        if xHigh & 0x1FF == 0x1FF && xLow &+ normalized < normalized {
            let (yHigh, yLow) = normalized.multipliedFullWidth(by: power.low)
            var mergedHigh = xHigh
            let mergedLow = xLow &+ yHigh
            if mergedLow < xLow { mergedHigh &+= 1 }
            if mergedHigh & 0x1FF == 0x1FF && mergedLow &+ 1 == 0 && yLow &+ normalized < normalized { return nil }
            xHigh = mergedHigh
            xLow = mergedLow
        }
        let top = xHigh >> 63
        var result = xHigh >> (top + 9)
        exponent2 &-= 1 ^ top
        if xLow == 0 && xHigh & 0x1FF == 0 && result & 3 == 1 { return nil }
        result &+= result & 1
        result >>= 1
        if result >> 53 > 0 {
            result >>= 1
            exponent2 &+= 1
        }
        if exponent2 &- 1 >= 0x7FF - 1 { return nil }
        var bits = exponent2 << 52 | result & 0x000F_FFFF_FFFF_FFFF
        if negative { bits |= 1 << 63 }
        return Double(bitPattern: bits)
    }
}
