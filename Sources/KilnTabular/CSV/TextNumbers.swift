#if canImport(Glibc)
import Glibc
#endif

/// Parsing of numbers and booleans from field bytes, exact and allocation-free on the common
/// path: a decimal with at most 19 significant digits whose value and power of ten are exactly
/// representable is computed with one correctly rounded multiply or divide (Clinger's fast
/// path), else with Eisel and Lemire's algorithm; what neither settles (more than 19 digits,
/// rare halfway cases) goes to the C library's `strtod`, which rounds correctly too.
/// Spaces around the text are ignored. `nan`, `inf` and `infinity` (any case, signed) are
/// floats; `true`/`false` (any case) are booleans.
public enum TextNumbers {
    /// 10^0 ... 10^22, the powers a double holds exactly. A literal, so that it is laid out at
    /// compile time (a computed one is initialised lazily, checked on every parse).
    private static let exactPowersOfTen: [Double] = [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
        1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
    ]

    @inline(__always)
    static func trimmed(_ text: UnsafeBufferPointer<UInt8>) -> UnsafeBufferPointer<UInt8> {
        var start = 0
        var end = text.count
        while start < end && text[start] == 0x20 { start += 1 }
        while end > start && text[end - 1] == 0x20 { end -= 1 }
        if start == 0 && end == text.count { return text }
        return UnsafeBufferPointer(rebasing: text[start..<end])
    }

    /// A 64-bit signed integer, or nil (not an integer, or out of range).
    @inline(__always)
    public static func parseInt(_ raw: UnsafeBufferPointer<UInt8>) -> Int64? {
        let text = trimmed(raw)
        var index = 0
        var negative = false
        if index < text.count && (text[index] == 0x2D || text[index] == 0x2B) {
            negative = text[index] == 0x2D
            index += 1
        }
        guard index < text.count else { return nil }
        var magnitude: UInt64 = 0
        while index < text.count {
            let digit = UInt64(text[index]) &- 0x30
            guard digit < 10 else { return nil }
            let (times10, overflow1) = magnitude.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = times10.addingReportingOverflow(digit)
            guard !overflow1 && !overflow2 else { return nil }
            magnitude = sum
            index += 1
        }
        if negative {
            guard magnitude <= UInt64(Int64.max) + 1 else { return nil }
            return magnitude == UInt64(Int64.max) + 1 ? Int64.min : -Int64(magnitude)
        }
        guard magnitude <= UInt64(Int64.max) else { return nil }
        return Int64(magnitude)
    }

    /// A double, or nil when the text is not a number.
    @inline(__always)
    public static func parseDouble(_ raw: UnsafeBufferPointer<UInt8>) -> Double? {
        let text = trimmed(raw)
        let count = text.count
        var index = 0
        var negative = false
        if index < count && (text[index] == 0x2D || text[index] == 0x2B) {
            negative = text[index] == 0x2D
            index += 1
        }
        var mantissa: UInt64 = 0
        var significantDigits = 0
        var exponent = 0
        var sawDigit = false
        var truncated = false
        while index < count {
            let digit = UInt64(text[index]) &- 0x30
            guard digit < 10 else { break }
            sawDigit = true
            if significantDigits < 19 {
                mantissa = mantissa &* 10 &+ digit
                if mantissa != 0 { significantDigits += 1 }
            } else {
                exponent += 1
                if digit != 0 { truncated = true }
            }
            index += 1
        }
        if index < count && text[index] == 0x2E {
            index += 1
            // Eight digits at a time once past leading zeros (the common long fraction), then
            // the last one to seven in one more word: the 8 bytes ending the text, its bytes
            // before `index` replaced by '0's.
            if mantissa != 0, let base = text.baseAddress {
                while significantDigits + 8 <= 19 && index + 8 <= count, let eight = eightDigits(base + index) {
                    mantissa = mantissa &* 100_000_000 &+ eight
                    significantDigits += 8
                    exponent -= 8
                    sawDigit = true
                    index += 8
                }
                let rest = count - index
                if rest > 0 && rest < 8 && count >= 8 && significantDigits + rest <= 19,
                   let digits = lastDigits(base + count - 8, rest) {
                    mantissa = mantissa &* powersOfTenIntegers[rest] &+ digits
                    significantDigits += rest
                    exponent -= rest
                    sawDigit = true
                    index = count
                }
            }
            while index < count {
                let digit = UInt64(text[index]) &- 0x30
                guard digit < 10 else { break }
                sawDigit = true
                if significantDigits < 19 {
                    mantissa = mantissa &* 10 &+ digit
                    if mantissa != 0 { significantDigits += 1 }
                    exponent -= 1
                } else if digit != 0 {
                    truncated = true
                }
                index += 1
            }
        }
        guard sawDigit else { return parseSpecial(text) }
        if index < count && (text[index] | 0x20) == 0x65 {
            index += 1
            var exponentNegative = false
            if index < count && (text[index] == 0x2D || text[index] == 0x2B) {
                exponentNegative = text[index] == 0x2D
                index += 1
            }
            var written = 0
            var sawExponentDigit = false
            while index < count {
                let digit = Int(text[index]) &- 0x30
                guard digit >= 0 && digit < 10 else { break }
                sawExponentDigit = true
                if written < 100_000 { written = written * 10 + digit }
                index += 1
            }
            guard sawExponentDigit else { return nil }
            exponent += exponentNegative ? -written : written
        }
        guard index == count else { return nil }
        if !truncated && mantissa <= (1 << 53) && exponent >= -22 && exponent <= 22 {
            var value = Double(mantissa)
            value = exponent < 0 ? value / exactPowersOfTen[-exponent] : value * exactPowersOfTen[exponent]
            return negative ? -value : value
        }
        if !truncated, let value = EiselLemire.convert(mantissa, exponent, negative: negative) { return value }
        return slowParse(text)
    }

    /// The value of eight ASCII digits, or nil if any byte is not a digit (SWAR, as fast_float).
    @inline(__always)
    static func eightDigits(_ pointer: UnsafePointer<UInt8>) -> UInt64? {
        eightDigits(UInt64(littleEndian: UnsafeRawPointer(pointer).loadUnaligned(as: UInt64.self)))
    }

    /// The value of eight ASCII digits in a little-endian word, or nil if any byte is not one.
    @inline(__always)
    static func eightDigits(_ word: UInt64) -> UInt64? {
        guard ((word &+ 0x4646_4646_4646_4646) | (word &- 0x3030_3030_3030_3030)) & 0x8080_8080_8080_8080 == 0 else { return nil }
        var value = word &- 0x3030_3030_3030_3030
        value = (value &* 10) &+ (value >> 8)
        let high = (value & 0x0000_00FF_0000_00FF) &* (100 + (1_000_000 << 32))
        let low = ((value >> 16) & 0x0000_00FF_0000_00FF) &* (1 + (10_000 << 32))
        return (high &+ low) >> 32
    }

    /// The value of the last `count` (1...7) of the eight bytes at `pointer`, or nil if any of
    /// them is not a digit: the bytes before them read as '0's.
    @inline(__always)
    static func lastDigits(_ pointer: UnsafePointer<UInt8>, _ count: Int) -> UInt64? {
        let word = UInt64(littleEndian: UnsafeRawPointer(pointer).loadUnaligned(as: UInt64.self))
        let kept = ~UInt64(0) << UInt64(8 * (8 - count))
        let padded = word & kept | 0x3030_3030_3030_3030 & ~kept
        return eightDigits(padded)
    }

    /// 10^0 ... 10^7 as integers.
    private static let powersOfTenIntegers: [UInt64] = [1, 10, 100, 1_000, 10_000, 100_000, 1_000_000, 10_000_000]

    /// `true`/`false` in any case.
    @inline(__always)
    public static func parseBool(_ raw: UnsafeBufferPointer<UInt8>) -> Bool? {
        let text = trimmed(raw)
        if text.count == 4 && matches(text, "true") { return true }
        if text.count == 5 && matches(text, "false") { return false }
        return nil
    }

    private static func parseSpecial(_ text: UnsafeBufferPointer<UInt8>) -> Double? {
        var body = text
        var negative = false
        if let first = body.first, first == 0x2D || first == 0x2B {
            negative = first == 0x2D
            body = UnsafeBufferPointer(rebasing: body.dropFirst())
        }
        if body.count == 3 && matches(body, "nan") { return .nan }
        if (body.count == 3 && matches(body, "inf")) || (body.count == 8 && matches(body, "infinity")) {
            return negative ? -.infinity : .infinity
        }
        return nil
    }

    /// Case-insensitive comparison with a lowercase ASCII word of the same length.
    @inline(__always)
    static func matches(_ text: UnsafeBufferPointer<UInt8>, _ word: StaticString) -> Bool {
        let bytes = UnsafeBufferPointer(start: word.utf8Start, count: word.utf8CodeUnitCount)
        guard bytes.count == text.count else { return false }
        for index in 0..<bytes.count where text[index] | 0x20 != bytes[index] { return false }
        return true
    }

    private static func slowParse(_ text: UnsafeBufferPointer<UInt8>) -> Double? {
        withUnsafeTemporaryAllocation(of: CChar.self, capacity: text.count + 1) { buffer in
            for index in 0..<text.count { buffer[index] = CChar(bitPattern: text[index]) }
            buffer[text.count] = 0
            var end: UnsafeMutablePointer<CChar>? = nil
            let value = strtod(buffer.baseAddress!, &end)
            guard let end, end - buffer.baseAddress! == text.count else { return nil }
            return value
        }
    }
}
