/// Kiln's version. Keep in step with `include/kiln.h` (`KILN_VERSION_*`, `KILN_ABI_VERSION`)
/// and `CHANGELOG.md`; a test checks that they agree.
public enum KilnVersion {
    public static let major = 0
    public static let minor = 1
    public static let patch = 0
    public static var string: String { "\(major).\(minor).\(patch)" }
    /// Bumped whenever a C declaration changes incompatibly; the Python binding checks it at import.
    public static let abi = 1
}
