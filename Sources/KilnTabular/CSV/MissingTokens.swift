/// The set of field texts that mean "missing", compared byte for byte. Tokens of up to eight
/// bytes (all the usual ones) are packed into integers, so a check is a few integer compares.
struct MissingTokens {
    private let packed: [(length: Int, value: UInt64)]
    private let long: [[UInt8]]
    private let includesEmpty: Bool
    private let longest: Int

    init(_ strings: [String]) {
        let tokens = strings.filter { !$0.isEmpty }.map { Array($0.utf8) }
        packed = tokens.filter { $0.count <= 8 }.map { ($0.count, Self.pack($0)) }
        long = tokens.filter { $0.count > 8 }
        includesEmpty = strings.contains("")
        longest = tokens.map(\.count).max() ?? 0
    }

    private static func pack<C: Collection>(_ bytes: C) -> UInt64 where C.Element == UInt8 {
        bytes.enumerated().reduce(0) { $0 | UInt64($1.element) << UInt64(8 * $1.offset) }
    }

    @inline(__always)
    func contains(_ text: UnsafeBufferPointer<UInt8>) -> Bool {
        let count = text.count
        if count == 0 { return includesEmpty }
        if count > longest { return false }
        if count <= 8 {
            var value: UInt64 = 0
            for index in 0..<count { value |= UInt64(text[index]) << UInt64(8 * index) }
            for token in packed where token.length == count && token.value == value { return true }
            return false
        }
        return long.contains { $0.elementsEqual(text) }
    }
}
