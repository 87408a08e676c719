/// The set of field texts that mean "missing", compared byte for byte.
struct MissingTokens {
    private let tokens: [[UInt8]]
    private let includesEmpty: Bool
    private let longest: Int

    init(_ strings: [String]) {
        tokens = strings.filter { !$0.isEmpty }.map { Array($0.utf8) }
        includesEmpty = strings.contains("")
        longest = tokens.map(\.count).max() ?? 0
    }

    @inline(__always)
    func contains(_ text: UnsafeBufferPointer<UInt8>) -> Bool {
        if text.count == 0 { return includesEmpty }
        if text.count > longest { return false }
        for token in tokens where token.count == text.count {
            if token.withUnsafeBufferPointer({ memcmp($0.baseAddress!, text.baseAddress!, text.count) }) == 0 {
                return true
            }
        }
        return false
    }
}

#if canImport(Glibc)
import Glibc
#endif
