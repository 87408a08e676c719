/// Least-significant-digit radix sort of doubles (8 passes of 8 bits over order-preserving
/// keys, skipping passes whose digit is the same for every value): linear time, for the
/// quantile sketch's compactions. NaN is not expected (callers skip it).
enum RadixSort {
    /// Maps a double to an unsigned integer with the same order (negative values flipped).
    @inline(__always)
    static func key(_ value: Double) -> UInt64 {
        let bits = value.bitPattern
        return bits & (1 << 63) != 0 ? ~bits : bits | (1 << 63)
    }

    @inline(__always)
    static func value(_ key: UInt64) -> Double {
        Double(bitPattern: key & (1 << 63) != 0 ? key & ~(1 << 63) : ~key)
    }

    static func sort(_ values: inout [Double]) {
        let count = values.count
        guard count > 64 else {
            values.sort()
            return
        }
        var keys = [UInt64](unsafeUninitializedCapacity: count) { keys, initialized in
            values.withUnsafeBufferPointer { values in
                for index in 0..<count { keys[index] = key(values[index]) }
            }
            initialized = count
        }
        var buffer = [UInt64](repeating: 0, count: count)
        var histograms = [Int](repeating: 0, count: 8 * 256)
        // Raw pointers throughout: with arrays, each scatter store made the next histogram
        // access reload the array's bounds, which might have changed behind the store.
        histograms.withUnsafeMutableBufferPointer { histograms in
            let histograms = histograms.baseAddress!
            keys.withUnsafeMutableBufferPointer { keysPointer in
                buffer.withUnsafeMutableBufferPointer { bufferPointer in
                    var source = keysPointer.baseAddress!
                    var target = bufferPointer.baseAddress!
                    for index in 0..<count {
                        let key = source[index]
                        for pass in 0..<8 { histograms[pass &* 256 &+ Int((key >> UInt64(pass &* 8)) & 0xFF)] &+= 1 }
                    }
                    for pass in 0..<8 {
                        let histogram = histograms + pass * 256
                        let shift = UInt64(pass * 8)
                        // A digit shared by every key leaves the order as it is.
                        if histogram[Int((source[0] >> shift) & 0xFF)] == count { continue }
                        var offset = 0
                        for digit in 0..<256 {
                            let size = histogram[digit]
                            histogram[digit] = offset
                            offset &+= size
                        }
                        for index in 0..<count {
                            let key = source[index]
                            let digit = Int((key >> shift) & 0xFF)
                            target[histogram[digit]] = key
                            histogram[digit] &+= 1
                        }
                        swap(&source, &target)
                    }
                    values.withUnsafeMutableBufferPointer { values in
                        for index in 0..<count { values[index] = value(source[index]) }
                    }
                }
            }
        }
    }
}
