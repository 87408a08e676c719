import KilnCore

/// Little-endian binary encoding of the mergeable accumulators' compact form.
public struct BinaryWriter {
    public private(set) var bytes: [UInt8] = []

    public init() {}

    public mutating func write(_ value: UInt8) { bytes.append(value) }
    public mutating func write(_ value: UInt32) { withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) } }
    public mutating func write(_ value: UInt64) { withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) } }
    public mutating func write(_ value: Int) { write(UInt64(bitPattern: Int64(value))) }
    public mutating func write(_ value: Double) { write(value.bitPattern) }
    public mutating func write(_ value: Bool) { write(UInt8(value ? 1 : 0)) }

    public mutating func write(_ value: String) {
        var copy = value
        copy.withUTF8 { write($0) }
    }

    public mutating func write(_ value: UnsafeBufferPointer<UInt8>) {
        write(value.count)
        bytes.append(contentsOf: value)
    }

    public mutating func write(_ values: [Double]) {
        write(values.count)
        for value in values { write(value) }
    }

    /// A tag and version that readers check first.
    public mutating func writeHeader(magic: String, version: UInt32) {
        write(magic)
        write(version)
    }
}

/// Reads what `BinaryWriter` wrote; truncated or inconsistent input is a `format` error.
public struct BinaryReader {
    private let bytes: [UInt8]
    public private(set) var position = 0
    private let what: String

    public init(_ bytes: [UInt8], what: String) {
        self.bytes = bytes
        self.what = what
    }

    public var isAtEnd: Bool { position == bytes.count }

    private mutating func take(_ count: Int) throws -> ArraySlice<UInt8> {
        guard count >= 0, count <= bytes.count - position else {
            throw KilnError.format("\(what) is truncated or corrupt (needed \(count) bytes at offset \(position))")
        }
        defer { position += count }
        return bytes[position..<position + count]
    }

    public mutating func readUInt8() throws -> UInt8 { try take(1).first! }

    public mutating func readUInt32() throws -> UInt32 {
        try take(4).reversed().reduce(0) { $0 << 8 | UInt32($1) }
    }

    public mutating func readUInt64() throws -> UInt64 {
        try take(8).reversed().reduce(0) { $0 << 8 | UInt64($1) }
    }

    public mutating func readInt() throws -> Int { Int(Int64(bitPattern: try readUInt64())) }
    public mutating func readDouble() throws -> Double { Double(bitPattern: try readUInt64()) }
    public mutating func readBool() throws -> Bool { try readUInt8() != 0 }

    /// A count that must fit in what is left (each element at least `elementBytes`).
    public mutating func readCount(elementBytes: Int = 1) throws -> Int {
        let count = try readInt()
        guard count >= 0, count <= (bytes.count - position) / max(elementBytes, 1) else {
            throw KilnError.format("\(what) is truncated or corrupt (a count of \(count) at offset \(position))")
        }
        return count
    }

    public mutating func readBytes() throws -> ArraySlice<UInt8> { try take(try readCount()) }
    public mutating func readString() throws -> String { String(decoding: try readBytes(), as: UTF8.self) }

    public mutating func readDoubles() throws -> [Double] {
        let count = try readCount(elementBytes: 8)
        return try (0..<count).map { _ in try readDouble() }
    }

    public mutating func readHeader(magic: String, version: UInt32) throws {
        let foundMagic = try? readString()
        guard foundMagic == magic else { throw KilnError.format("not a \(what) (expected '\(magic)')") }
        let found = try readUInt32()
        guard found <= version else {
            throw KilnError.unsupported("\(what) has format version \(found); this Kiln reads up to \(version)")
        }
    }
}
