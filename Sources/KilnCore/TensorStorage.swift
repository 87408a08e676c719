import CKilnSupport
#if canImport(Glibc)
import Glibc
#endif

/// The bytes behind one or more `Tensor` values: 64-byte aligned (one cache line, one AVX-512
/// register), zero-filled, freed when the last tensor or view that shares it goes away. From
/// 4 MiB up (numpy's threshold), 2 MiB aligned and backed by huge pages where the kernel can.
final class TensorStorage: @unchecked Sendable {
    static let alignment = 64
    static let hugePage = 1 << 21, hugeFrom = 1 << 22

    let bytes: UnsafeMutableRawPointer
    let byteCount: Int

    /// Allocates `byteCount` bytes, zeroed unless the caller writes every one of them at once.
    /// Throws `outOfMemory` if the allocator refuses.
    init(byteCount: Int, zeroed: Bool = true) throws {
        var pointer: UnsafeMutableRawPointer?
        let huge = byteCount >= Self.hugeFrom
        let status = posix_memalign(&pointer, huge ? Self.hugePage : Self.alignment, max(byteCount, Self.alignment))
        guard status == 0, let pointer else {
            throw KilnError(.outOfMemory, "cannot allocate \(byteCount) bytes for a tensor")
        }
        if huge { ckiln_advise_huge_pages(pointer, byteCount) }
        if zeroed { memset(pointer, 0, max(byteCount, Self.alignment)) }
        self.bytes = pointer
        self.byteCount = byteCount
    }

    deinit { free(bytes) }
}

/// Number of elements of `shape`, or an error for a negative dimension or an overflowing product.
func elementCount(of shape: [Int], elementSize: Int = 1) throws -> Int {
    var count = elementSize
    for dimension in shape {
        guard dimension >= 0 else {
            throw KilnError.invalidArgument("negative dimension \(dimension) in shape \(shape)")
        }
        let (product, overflow) = count.multipliedReportingOverflow(by: dimension)
        guard !overflow else { throw KilnError(.outOfMemory, "shape \(shape) overflows the address space") }
        count = product
    }
    return elementSize == 0 ? 0 : count / elementSize
}

/// Row-major (C order) strides, in elements, for `shape`.
public func rowMajorStrides(_ shape: [Int]) -> [Int] {
    var strides = [Int](repeating: 1, count: shape.count)
    var running = 1
    for axis in shape.indices.reversed() {
        strides[axis] = running
        running *= max(shape[axis], 1)
    }
    return strides
}

/// Copies a strided array of `shape` into a dense row-major destination. Strides are in bytes
/// and may be negative or zero. O(count); runs of unit stride are copied with memcpy.
public func copyStrided(
    from source: UnsafeRawPointer, strides: [Int], shape: [Int], elementSize: Int,
    to destination: UnsafeMutableRawPointer
) {
    if shape.contains(0) { return }
    var written = 0
    func copy(axis: Int, _ base: UnsafeRawPointer) {
        if axis == shape.count - 1 || shape.isEmpty {
            let n = shape.isEmpty ? 1 : shape[axis]
            let step = shape.isEmpty ? elementSize : strides[axis]
            if step == elementSize {
                (destination + written).copyMemory(from: base, byteCount: n * elementSize)
            } else {
                for i in 0..<n {
                    (destination + written + i * elementSize).copyMemory(from: base + i * step, byteCount: elementSize)
                }
            }
            written += n * elementSize
            return
        }
        for i in 0..<shape[axis] { copy(axis: axis + 1, base + i * strides[axis]) }
    }
    copy(axis: 0, source)
}
