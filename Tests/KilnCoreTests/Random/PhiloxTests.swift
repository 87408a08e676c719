import Testing

@testable import KilnCore

@Suite struct PhiloxTests {
    /// Random123's `tests/kat_vectors`, the three `philox4x32 10` lines: counter, key, result.
    @Test(arguments: [
        ([0, 0, 0, 0], [0, 0], [0x6627_e8d5, 0xe169_c58d, 0xbc57_ac4c, 0x9b00_dbd8]),
        ([0xffff_ffff, 0xffff_ffff, 0xffff_ffff, 0xffff_ffff], [0xffff_ffff, 0xffff_ffff],
         [0x408f_276d, 0x41c8_3b0e, 0xa20b_c7c6, 0x6d54_51fd]),
        ([0x243f_6a88, 0x85a3_08d3, 0x1319_8a2e, 0x0370_7344], [0xa409_3822, 0x299f_31d0],
         [0xd16c_fe09, 0x94fd_cceb, 0x5001_e420, 0x2412_6ea1]),
    ] as [([UInt32], [UInt32], [UInt32])])
    func knownAnswers(counter: [UInt32], key: [UInt32], expected: [UInt32]) {
        let result = Philox.philox4x32(
            counter: SIMD4(counter[0], counter[1], counter[2], counter[3]), key: SIMD2(key[0], key[1]))
        #expect([result[0], result[1], result[2], result[3]] == expected)
    }

    @Test func blockPacksSeedStreamAndCounter() {
        let philox = Philox(seed: 0x299f_31d0_a409_3822)
        let block = philox.block(stream: 0x0370_7344_1319_8a2e, counter: 0x85a3_08d3_243f_6a88)
        #expect(block == SIMD4(0xd16c_fe09, 0x94fd_cceb, 0x5001_e420, 0x2412_6ea1))
    }

    @Test func outputDependsOnlyOnSeedStreamAndCounter() {
        let a = Philox(seed: 42), b = Philox(seed: 42), c = Philox(seed: 43)
        #expect(a.block(stream: 7, counter: 3) == b.block(stream: 7, counter: 3))
        #expect(a.block(stream: 7, counter: 3) != c.block(stream: 7, counter: 3))
        #expect(a.block(stream: 7, counter: 3) != a.block(stream: 8, counter: 3))
        var first = a.stream(5), second = b.stream(5)
        let x = (0..<100).map { _ in first.nextUInt32() }
        let y = (0..<100).map { _ in second.nextUInt32() }
        #expect(x == y)
        #expect(first.counter == 25)
    }

    @Test func unitFloatsAreUniform() {
        var stream = Philox(seed: 2024).stream(0)
        let buckets = 16, draws = 160_000
        var counts = [Int](repeating: 0, count: buckets)
        var sum = 0.0
        for _ in 0..<draws {
            let value = stream.nextUnitFloat()
            #expect(value >= 0 && value < 1)
            counts[Int(value * Float(buckets))] += 1
            sum += Double(value)
        }
        let expected = Double(draws) / Double(buckets)
        let chiSquare = counts.reduce(0.0) { $0 + (Double($1) - expected) * (Double($1) - expected) / expected }
        // 15 degrees of freedom: P(chi² > 37.7) = 0.001.
        #expect(chiSquare < 37.7)
        #expect(abs(sum / Double(draws) - 0.5) < 0.005)
    }

    @Test func normalsHaveUnitVariance() {
        var stream = Philox(seed: 1).stream(3)
        let values = (0..<50_000).map { _ in stream.nextNormal() }
        let mean = values.reduce(0, +) / Double(values.count)
        let variance = values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(values.count - 1)
        #expect(abs(mean) < 0.02)
        #expect(abs(variance - 1) < 0.03)
    }

    @Test func worksAsASwiftRandomNumberGenerator() {
        var a = Philox(seed: 9).stream(0), b = Philox(seed: 9).stream(0)
        var first = Array(0..<20), second = Array(0..<20)
        first.shuffle(using: &a)
        second.shuffle(using: &b)
        #expect(first == second)
        #expect(first != Array(0..<20))
    }
}
