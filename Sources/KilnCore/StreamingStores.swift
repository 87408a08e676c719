import CKilnSupport

/// Non-temporal stores, for output written once and not read again soon — a batch tensor larger
/// than the caches — which then neither evicts the working set nor reads each destination cache
/// line before writing it. (Swift cannot ask for them; `ckiln_stream_floats` does.)
public enum StreamingStores {
    /// Copies `count` floats from `source` to `destination`.
    @inline(__always)
    public static func copy(_ source: UnsafePointer<Float>, to destination: UnsafeMutablePointer<Float>, count: Int) {
        ckiln_stream_floats(destination, source, count)
    }

    /// Orders the streamed stores before any later store: call it before another thread may
    /// read what was streamed.
    @inline(__always)
    public static func fence() { ckiln_stream_fence() }
}
