/// Variable-length UTF-8 strings stored contiguously (Arrow's layout): value `i` is
/// `bytes[offsets[i]..<offsets[i + 1]]`. Appending never allocates per value.
public struct StringArray: Sendable, Equatable {
    public private(set) var offsets: [Int] = [0]
    public private(set) var bytes: [UInt8] = []

    public init() {}

    public init(_ strings: [String]) {
        for string in strings { append(string) }
    }

    /// Strings already laid out: `offsets` ascends from 0 to `bytes.count` (not checked).
    init(offsets: [Int], bytes: [UInt8]) {
        self.offsets = offsets
        self.bytes = bytes
    }

    public var count: Int { offsets.count - 1 }

    public subscript(index: Int) -> String {
        bytes.withUnsafeBufferPointer { buffer in
            String(decoding: UnsafeBufferPointer(rebasing: buffer[offsets[index]..<offsets[index + 1]]), as: UTF8.self)
        }
    }

    /// The bytes of value `index`, valid only inside `body`.
    @inline(__always)
    public func withValue<R>(_ index: Int, _ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R {
        try bytes.withUnsafeBufferPointer { buffer in
            try body(UnsafeBufferPointer(rebasing: buffer[offsets[index]..<offsets[index + 1]]))
        }
    }

    @inline(__always)
    public mutating func append(_ value: UnsafeBufferPointer<UInt8>) {
        bytes.append(contentsOf: value)
        offsets.append(bytes.count)
    }

    public mutating func append(_ value: String) {
        var copy = value
        copy.withUTF8 { append($0) }
    }

    /// Appends an empty value (the placeholder of a missing one).
    @inline(__always)
    public mutating func appendEmpty() { offsets.append(bytes.count) }

    public mutating func append(contentsOf other: StringArray) {
        let base = bytes.count
        bytes.append(contentsOf: other.bytes)
        offsets.append(contentsOf: other.offsets.dropFirst().map { $0 + base })
    }

    public mutating func reserveCapacity(values: Int, bytes byteCount: Int) {
        offsets.reserveCapacity(values + 1)
        bytes.reserveCapacity(byteCount)
    }

    public mutating func truncate(to newCount: Int) {
        offsets.removeLast(offsets.count - newCount - 1)
        bytes.removeLast(bytes.count - offsets[newCount])
    }
}
