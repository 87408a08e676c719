import Testing

@testable import KilnCore

@Suite struct ByteLookupTests {
    /// Against the one-byte-at-a-time loop, for lengths around the 64-byte step (the tail is a
    /// masked load and store that must not touch bytes past the end), out of place and in place.
    @Test(arguments: [0, 1, 63, 64, 65, 127, 128, 200, 4099])
    func mapsEveryByteThroughTheTable(count: Int) {
        let table = (0..<256).map { UInt8(truncatingIfNeeded: $0 &* 167 &+ 13) }
        let source = (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 / 7) }
        let expected = source.map { table[Int($0)] }
        var target = [UInt8](repeating: 0xAA, count: count + 70)  // a guard band after the end
        source.withUnsafeBufferPointer { from in
            target.withUnsafeMutableBufferPointer { to in
                table.withUnsafeBufferPointer { ByteLookup.map(from.baseAddress ?? UnsafePointer(bitPattern: 1)!, to: to.baseAddress!, count: count, table: $0.baseAddress!) }
            }
        }
        #expect(Array(target[..<count]) == expected)
        #expect(target[count...].allSatisfy { $0 == 0xAA })
        var inPlace = source
        inPlace.withUnsafeMutableBufferPointer { bytes in
            table.withUnsafeBufferPointer { ByteLookup.map(UnsafePointer(bytes.baseAddress ?? UnsafeMutablePointer(bitPattern: 1)!), to: bytes.baseAddress ?? UnsafeMutablePointer(bitPattern: 1)!, count: count, table: $0.baseAddress!) }
        }
        #expect(inPlace == expected)
    }
}
