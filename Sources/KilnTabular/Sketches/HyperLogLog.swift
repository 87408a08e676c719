import KilnCore

/// Distinct count: exact while at most 4,096 distinct 64-bit hashes were seen, then a
/// HyperLogLog with 2^14 registers (relative standard error 1.04/√16384 ≈ 0.8%, with linear
/// counting for small cardinalities). Mergeable: the registers' maximum, so merging equals
/// counting the concatenated data.
public struct HyperLogLog: Sendable {
    public static let precision = 14
    private static let exactLimit = 4096
    private var exact: Set<UInt64>? = []
    private var registers: [UInt8] = []

    public init() {}

    public var isExact: Bool { exact != nil }

    @inline(__always)
    public mutating func add(hash: UInt64) {
        if exact != nil {
            exact!.insert(hash)
            if exact!.count > Self.exactLimit { switchToRegisters() }
            return
        }
        addToRegisters(hash)
    }

    public mutating func add(_ bytes: UnsafeBufferPointer<UInt8>) { add(hash: XXHash64.hash(bytes)) }

    @inline(__always)
    private mutating func addToRegisters(_ hash: UInt64) {
        let index = Int(hash >> UInt64(64 - Self.precision))
        let rest = (hash << UInt64(Self.precision)) | (1 << UInt64(Self.precision - 1))
        let rank = UInt8(rest.leadingZeroBitCount + 1)
        if rank > registers[index] { registers[index] = rank }
    }

    private mutating func switchToRegisters() {
        registers = [UInt8](repeating: 0, count: 1 << Self.precision)
        for hash in exact ?? [] { addToRegisters(hash) }
        exact = nil
    }

    public mutating func merge(_ other: HyperLogLog) {
        if let theirs = other.exact {
            for hash in theirs { add(hash: hash) }
            return
        }
        if exact != nil { switchToRegisters() }
        for index in registers.indices where other.registers[index] > registers[index] {
            registers[index] = other.registers[index]
        }
    }

    /// The estimated number of distinct values (exact while `isExact`).
    public var estimate: Int {
        if let exact { return exact.count }
        let m = Double(registers.count)
        var sum = 0.0
        var zeros = 0
        for register in registers {
            sum += 1 / Double(1 << UInt64(register))
            if register == 0 { zeros += 1 }
        }
        let alpha = 0.7213 / (1 + 1.079 / m)
        let raw = alpha * m * m / sum
        if raw <= 2.5 * m && zeros > 0 {
            return Int((m * log(m / Double(zeros))).rounded())
        }
        return Int(raw.rounded())
    }

    public func encode(into writer: inout BinaryWriter) {
        if let exact {
            writer.write(UInt8(0))
            writer.write(exact.count)
            for hash in exact.sorted() { writer.write(hash) }
        } else {
            writer.write(UInt8(1))
            writer.write(registers.count)
            for register in registers { writer.write(register) }
        }
    }

    public static func decode(from reader: inout BinaryReader) throws -> HyperLogLog {
        var sketch = HyperLogLog()
        switch try reader.readUInt8() {
        case 0:
            let count = try reader.readCount(elementBytes: 8)
            for _ in 0..<count { sketch.add(hash: try reader.readUInt64()) }
        case 1:
            let count = try reader.readCount()
            guard count == 1 << precision else { throw KilnError.format("a distinct-count sketch has \(count) registers") }
            sketch.exact = nil
            sketch.registers = try (0..<count).map { _ in try reader.readUInt8() }
        default:
            throw KilnError.format("unknown distinct-count sketch kind")
        }
        return sketch
    }
}

#if canImport(Glibc)
import Glibc
#endif
