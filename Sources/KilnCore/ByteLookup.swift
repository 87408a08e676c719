import CKilnSupport

/// Byte-to-byte table lookups, 64 bytes at a time where the CPU has AVX-512 VBMI's byte permutes
/// (Swift cannot ask for them; `ckiln_lookup_bytes` does), else a byte at a time.
public enum ByteLookup {
    /// `target[i] = table[source[i]]` for i < count; `table` holds 256 bytes. In place is allowed.
    @inline(__always)
    public static func map(_ source: UnsafePointer<UInt8>, to target: UnsafeMutablePointer<UInt8>, count: Int,
                           table: UnsafePointer<UInt8>) {
        ckiln_lookup_bytes(source, target, count, table)
    }

    /// Whether `map` runs 64 bytes at a time here.
    public static var isVectorised: Bool { ckiln_lookup_is_vectorised() != 0 }
}
