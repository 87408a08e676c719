import KilnCore
import Testing

@testable import KilnTabular

private func encoded<T>(_ encode: (inout BinaryWriter) -> Void, _ decode: (inout BinaryReader) throws -> T) throws -> T {
    var writer = BinaryWriter()
    encode(&writer)
    var reader = BinaryReader(writer.bytes, what: "sketch")
    return try decode(&reader)
}

@Suite struct SketchTests {
    @Test func momentsMergeLikeOnePassAndMatchTwoPassFormulas() throws {
        var random = Philox(seed: 7).stream(1)
        let values = (0..<10_001).map { _ in random.nextNormal() * 3 + 1e6 }
        var whole = Moments()
        values.forEach { whole.add($0) }
        var left = Moments()
        var right = Moments()
        values[..<3333].forEach { left.add($0) }
        values[3333...].forEach { right.add($0) }
        left.merge(try encoded(right.encode, Moments.decode))
        let mean = values.reduce(0, +) / Double(values.count)
        let variance = values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(values.count)
        for moments in [whole, left] {
            #expect(moments.count == values.count)
            #expect(abs(moments.mean - mean) <= 1e-12 * abs(mean))
            #expect(abs(moments.variance - variance) <= 1e-9 * variance)
            #expect(moments.min == values.min() && moments.max == values.max())
        }
    }

    @Test func bulkAddsEqualOneByOneAdds() throws {
        var random = Philox(seed: 3).stream(4)
        let values = (0..<150_003).map { _ in random.nextNormal() * 5 + 1e4 }
        // Quantiles: the same sketch, through the exact limit and many compactions, in runs of
        // every length around the 8-lane step.
        var single = QuantileSketch()
        var bulk = QuantileSketch()
        var moments = Moments()
        var start = 0
        for length in (0..<2000).map({ $0 % 97 + ($0 % 5 == 0 ? 9000 : 0) }) where start < values.count {
            let end = min(values.count, start + length)
            values[start..<end].forEach { single.add($0) }
            values[start..<end].withUnsafeBufferPointer { bulk.add(contentsOf: $0); moments.add(contentsOf: $0) }
            start = end
        }
        #expect(start == values.count && !bulk.isExact)
        var one = BinaryWriter()
        var other = BinaryWriter()
        single.encode(into: &one)
        bulk.encode(into: &other)
        #expect(one.bytes == other.bytes)
        // Moments: the two-pass formulas.
        let mean = values.reduce(0, +) / Double(values.count)
        let variance = values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(values.count)
        #expect(moments.count == values.count && abs(moments.mean - mean) <= 1e-12 * abs(mean))
        #expect(abs(moments.variance - variance) <= 1e-9 * variance)
        #expect(moments.min == values.min() && moments.max == values.max())
        #expect(abs(moments.sum - values.reduce(0, +)) <= 1e-9 * abs(moments.sum))
    }

    @Test func quantilesAreExactWhileSmallLikeNumpy() throws {
        var sketch = QuantileSketch()
        for value in [5.0, 1, 4, 2, 3] { sketch.add(value) }
        #expect(sketch.quantiles([0, 0.25, 0.5, 0.9, 1]) == [1, 2, 3, 4.6, 5])
        #expect(QuantileSketch().quantiles([0.5]) == [])
    }

    @Test func quantilesStayWithinTheRankBoundWhenLargeAndMerged() throws {
        var random = Philox(seed: 11).stream(2)
        let values = (0..<400_000).map { _ in exp(random.nextNormal()) }
        let sorted = values.sorted()
        var parts = [QuantileSketch](repeating: QuantileSketch(), count: 4)
        for (index, value) in values.enumerated() { parts[index % 4].add(value) }
        var merged = parts[0]
        for part in parts.dropFirst() { merged.merge(try encoded(part.encode, QuantileSketch.decode)) }
        #expect(!merged.isExact && merged.count == values.count)
        let fractions = stride(from: 0.05, through: 0.95, by: 0.05).map { $0 }
        for (fraction, estimate) in zip(fractions, merged.quantiles(fractions)) {
            let rank = Double(sorted.lazy.filter { $0 < estimate }.count) / Double(sorted.count)
            #expect(abs(rank - fraction) <= QuantileSketch.rankErrorBound, "q=\(fraction) rank=\(rank)")
        }
    }

    @Test func radixSortOrdersLikeTheStandardSort() {
        var random = Philox(seed: 12).stream(5)
        for count in [3, 65, 1000, 20_000] {
            var values = (0..<count).map { _ in random.nextNormal() * pow(10, Double(random.next() % 40) - 20) }
            values += [0, -0.0, .infinity, -.infinity, 1e-310, -1e-310]
            var sorted = values
            RadixSort.sort(&sorted)
            #expect(sorted == values.sorted())
            for split in [0, 1, count / 3] {
                var runs = Array(values[..<split]).sorted() + Array(values[split...]).sorted()
                QuantileSketch.sortRuns(&runs)
                #expect(runs == values.sorted())
            }
            var same = [Double](repeating: 2.5, count: count)
            RadixSort.sort(&same)
            #expect(same.allSatisfy { $0 == 2.5 })
        }
    }

    @Test func frequenciesAreExactAndOrderedWhileSmall() throws {
        var left = FrequencySketch()
        var right = FrequencySketch()
        for word in ["b", "a", "c", "a", "b"] { left.add(word) }
        for word in ["c", "d", "a"] { right.add(word) }
        left.merge(try encoded(right.encode, FrequencySketch.decode))
        #expect(left.top().map(\.value) == ["a", "b", "c", "d"])
        #expect(left.top().map(\.count) == [3, 2, 2, 1])
        #expect(left.top(2, minimumCount: 1).map(\.value) == ["a", "b"])
        #expect(left.total == 8 && left.isExact)
    }

    @Test func frequenciesKeepHeavyHittersBeyondCapacity() throws {
        var sketch = FrequencySketch(capacity: 64)
        for index in 0..<20_000 {
            sketch.add(index % 2 == 0 ? "heavy" : "v\(index)")
        }
        let top = sketch.top(1)
        #expect(top.first?.value == "heavy")
        #expect(!sketch.isExact && top[0].count >= 10_000 - sketch.errorBound && top[0].count <= 10_000)
    }

    @Test func distinctCountsAreExactWhenSmallAndCloseWhenLarge() throws {
        var small = HyperLogLog()
        for index in 0..<1000 { small.add(hash: XXHash64.hash("k\(index % 300)")) }
        #expect(small.estimate == 300 && small.isExact)
        var left = HyperLogLog()
        var right = HyperLogLog()
        for index in 0..<100_000 { (index % 2 == 0 ? { left.add(hash: $0) } : { right.add(hash: $0) })(XXHash64.hash("k\(index)")) }
        left.merge(try encoded(right.encode, HyperLogLog.decode))
        #expect(abs(Double(left.estimate) - 100_000) < 0.03 * 100_000)
    }

    @Test func byteStringTablesFindExactlyTheKeysInserted() {
        // Keys of every length around the 8-byte steps and the 16-byte inline limit.
        let keys = (0...40).map { length in (0..<length).map { UInt8(0x61 + ($0 * 7 + length) % 26) } }
        var table = ByteStringTable()
        for (index, key) in keys.enumerated() {
            #expect(key.withUnsafeBufferPointer { table.insert($0) } == (index, true))
        }
        for (index, key) in keys.enumerated() {
            #expect(key.withUnsafeBufferPointer { table.find($0) } == index)
            #expect(key.withUnsafeBufferPointer { table.insert($0) } == (index, false))
            // The same length with one byte changed, anywhere, is another key.
            for position in key.indices {
                var changed = key
                changed[position] ^= 0x20
                #expect(changed.withUnsafeBufferPointer { table.find($0) } == nil)
            }
        }
    }

    @Test func keyHashesSpreadShortKeysOverTheSlots() {
        // Tables index slots with the low bits: 100,000 words and category names like the
        // benchmark's should fill 2^16 slots as random hashes would (1 - e^(-100000/65536) of them).
        for prefix in ["w", "c5_v", "category value "] {
            var slots = Set<UInt64>()
            for index in 0..<100_000 {
                var key = "\(prefix)\(index)"
                slots.insert(key.withUTF8 { ByteStringTable.keyHash($0) } & 0xFFFF)
            }
            #expect(slots.count > 49_500, "\(prefix): \(slots.count) of 65,536 slots")
        }
        // Every bit of every byte of keys up to the inline limit changes the hash.
        for length in 1...17 {
            let key = (0..<length).map { UInt8(0x30 + $0) }
            let hash = key.withUnsafeBufferPointer { ByteStringTable.keyHash($0) }
            for position in 0..<length {
                for bit in 0..<8 {
                    var changed = key
                    changed[position] ^= 1 << bit
                    #expect(changed.withUnsafeBufferPointer { ByteStringTable.keyHash($0) } != hash)
                }
            }
        }
        #expect([UInt8]().withUnsafeBufferPointer { ByteStringTable.keyHash($0) } != [UInt8(0)].withUnsafeBufferPointer { ByteStringTable.keyHash($0) })
    }

    @Test func xxhash64MatchesTheReference() {
        // Values from the xxHash reference implementation (xxhsum / python-xxhash).
        #expect(XXHash64.hash("") == 0xEF46_DB37_51D8_E999)
        #expect(XXHash64.hash("a") == 0xD24E_C4F1_A98C_6E5B)
        #expect(XXHash64.hash("abc") == 0x44BC_2CF5_AD77_0999)
        #expect(XXHash64.hash("Nobody inspects the spammish repetition") == 0xFBCE_A83C_8A37_8BF1)
    }

    @Test func utf8ValidationAgreesWithTheStandardLibrary() {
        var random = Philox(seed: 30).stream(1)
        let samples: [[UInt8]] = [Array("plain ascii text".utf8), Array("héllo wörld ✓ 𝄞".utf8), [0xC0, 0x80], [0xED, 0xA0, 0x80],
                                  [0xF4, 0x90, 0x80, 0x80], [0xE2, 0x82], [0x80], [0xF0, 0x9F, 0x98, 0x80]]
        var cases = samples
        for _ in 0..<5000 { cases.append((0..<Int(random.next() % 12)).map { _ in UInt8(truncatingIfNeeded: random.next() % 4 == 0 ? random.next() : random.next() % 128) }) }
        for bytes in cases {
            let ours = bytes.withUnsafeBufferPointer { UTF8Validation.isValid($0) }
            #expect(ours == (String(validating: bytes, as: UTF8.self) != nil), "\(bytes)")
        }
    }

    @Test func corruptSketchesAreFormatErrors() {
        var reader = BinaryReader([1, 2, 3], what: "quantile sketch")
        let error = #expect(throws: KilnError.self) { try QuantileSketch.decode(from: &reader) }
        #expect(error?.code == .format)
    }
}

#if canImport(Glibc)
import Glibc
#endif
