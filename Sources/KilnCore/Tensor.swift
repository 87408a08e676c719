#if canImport(Glibc)
import Glibc
#endif

/// What the axes of a tensor mean. Kernels use it to pick an implementation; it never changes
/// how elements are addressed (that is what `shape` and `strides` do).
public enum TensorLayout: Sendable, Equatable, CustomStringConvertible {
    /// No particular meaning: an n-dimensional array.
    case plain
    /// Batch, channels, height, width (ONNX's image layout).
    case nchw
    /// Batch, height, width, channels (images as decoded, TensorFlow's layout).
    case nhwc

    public var description: String {
        switch self {
        case .plain: "plain"
        case .nchw: "NCHW"
        case .nhwc: "NHWC"
        }
    }
}

/// An n-dimensional array of `float32`, `uint8`, `int32` or `int64` elements.
///
/// Storage is 64-byte aligned and copy-on-write: copies of a `Tensor` share bytes until one of
/// them is written. `sliced`, `permuted`, `transposed` and `reshaped` (of a contiguous tensor)
/// are views: they share the storage and copy nothing. Strides are in elements and may be
/// zero (broadcast) but not negative.
public struct Tensor: Sendable, CustomStringConvertible {
    public let dtype: DType
    public private(set) var shape: [Int]
    /// Distance between neighbours along each axis, in elements.
    public private(set) var strides: [Int]
    public var layout: TensorLayout
    var storage: TensorStorage
    /// Index of element `[0, 0, ...]` in the storage, in elements.
    var offset: Int

    /// A zero-filled contiguous tensor. O(count) to allocate and clear.
    public init(zeros shape: [Int], dtype: DType = .float32, layout: TensorLayout = .plain) throws {
        let byteCount = try elementCount(of: shape, elementSize: dtype.size) * dtype.size
        self.dtype = dtype
        self.shape = shape
        self.strides = rowMajorStrides(shape)
        self.layout = layout
        self.storage = try TensorStorage(byteCount: byteCount)
        self.offset = 0
    }

    /// A contiguous tensor whose bytes are not cleared: for a producer (within the package) that
    /// writes every element before anyone reads it, such as a model run's outputs.
    package init(uninitialized shape: [Int], dtype: DType) throws {
        let byteCount = try elementCount(of: shape, elementSize: dtype.size) * dtype.size
        self.dtype = dtype
        self.shape = shape
        self.strides = rowMajorStrides(shape)
        self.layout = .plain
        self.storage = try TensorStorage(byteCount: byteCount, zeroed: false)
        self.offset = 0
    }

    /// A contiguous tensor holding `values` in row-major order.
    public init<T: TensorElement>(shape: [Int], values: [T], layout: TensorLayout = .plain) throws {
        let count = try elementCount(of: shape, elementSize: T.dtype.size)
        guard count == values.count else {
            throw KilnError.shapeMismatch("shape \(shape) holds \(count) elements, got \(values.count) values")
        }
        try self.init(zeros: shape, dtype: T.dtype, layout: layout)
        values.withUnsafeBytes { storage.bytes.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
    }

    /// A contiguous copy of `count` elements starting at `pointer`, row-major in `shape`.
    public init<T: TensorElement>(copying pointer: UnsafePointer<T>, shape: [Int], layout: TensorLayout = .plain) throws {
        try self.init(zeros: shape, dtype: T.dtype, layout: layout)
        storage.bytes.copyMemory(from: pointer, byteCount: count * T.dtype.size)
    }

    public var rank: Int { shape.count }
    public var count: Int { shape.reduce(1, *) }
    public var byteCount: Int { count * dtype.size }

    /// True when the elements lie densely in row-major order (views can break that).
    public var isContiguous: Bool {
        var expected = 1
        for axis in shape.indices.reversed() where shape[axis] != 1 {
            if strides[axis] != expected { return false }
            expected *= shape[axis]
        }
        return true
    }

    public var description: String { "Tensor(\(dtype), shape: \(shape), layout: \(layout))" }

    // MARK: - Element access

    /// Reads the elements through a dense row-major buffer. A contiguous tensor lends its own
    /// storage (no copy); a strided view is copied into a temporary first.
    public func withUnsafeBufferPointer<T: TensorElement, R>(
        as type: T.Type, _ body: (UnsafeBufferPointer<T>) throws -> R
    ) throws -> R {
        try checkType(T.self)
        let dense = try contiguous()
        let base = (dense.storage.bytes + dense.offset * dtype.size).assumingMemoryBound(to: T.self)
        return try body(UnsafeBufferPointer(start: base, count: dense.count))
    }

    /// Writes the elements in place through a dense row-major buffer. Copies first if the
    /// storage is shared with another tensor (copy-on-write) or if this is a strided view.
    public mutating func withUnsafeMutableBufferPointer<T: TensorElement, R>(
        as type: T.Type, _ body: (UnsafeMutableBufferPointer<T>) throws -> R
    ) throws -> R {
        try checkType(T.self)
        if !isKnownUniquelyReferenced(&storage) || !isContiguous {
            self = try copied()
        }
        let base = (storage.bytes + offset * dtype.size).assumingMemoryBound(to: T.self)
        return try body(UnsafeMutableBufferPointer(start: base, count: count))
    }

    /// The pointer to element `[0, 0, ...]`, to be walked with `strides`. For strided kernels.
    public func withUnsafeBaseAddress<T: TensorElement, R>(
        as type: T.Type, _ body: (UnsafePointer<T>) throws -> R
    ) throws -> R {
        try checkType(T.self)
        return try withExtendedLifetime(storage) {
            try body(UnsafePointer((storage.bytes + offset * dtype.size).assumingMemoryBound(to: T.self)))
        }
    }

    /// The address of element `[0, 0, ...]`, valid while this tensor or a copy sharing its
    /// storage lives. For engines that plan buffers once and run many times: writing through it
    /// bypasses copy-on-write, so only write to tensors nobody else holds.
    @_spi(KilnInternals)
    public var unsafeBaseAddress: UnsafeMutableRawPointer { storage.bytes + offset * dtype.size }

    /// All elements in row-major order.
    public func scalars<T: TensorElement>(as type: T.Type) throws -> [T] {
        try withUnsafeBufferPointer(as: T.self) { Array($0) }
    }

    /// One element, by its index along every axis.
    public func value<T: TensorElement>(at index: [Int], as type: T.Type) throws -> T {
        try checkType(T.self)
        guard index.count == rank else {
            throw KilnError.shapeMismatch("index \(index) has \(index.count) axes, the tensor has \(rank)")
        }
        var position = offset
        for axis in 0..<rank {
            guard index[axis] >= 0 && index[axis] < shape[axis] else {
                throw KilnError.invalidArgument("index \(index) is outside shape \(shape)")
            }
            position += index[axis] * strides[axis]
        }
        return (storage.bytes + position * dtype.size).load(as: T.self)
    }

    // MARK: - Copies and views

    /// Itself if already contiguous, else a dense row-major copy.
    public func contiguous() throws -> Tensor {
        isContiguous ? self : try copied()
    }

    /// A dense row-major copy with storage of its own.
    public func copied() throws -> Tensor {
        var result = try Tensor(zeros: shape, dtype: dtype, layout: layout)
        copyStrided(
            from: storage.bytes + offset * dtype.size, strides: strides.map { $0 * dtype.size },
            shape: shape, elementSize: dtype.size, to: result.storage.bytes)
        result.layout = layout
        return result
    }

    /// A view of `range` along `axis`.
    public func sliced(axis: Int, _ range: Range<Int>) throws -> Tensor {
        try checkAxis(axis)
        guard range.lowerBound >= 0 && range.upperBound <= shape[axis] else {
            throw KilnError.invalidArgument("slice \(range) is outside 0..<\(shape[axis]) on axis \(axis)")
        }
        var view = self
        view.offset += range.lowerBound * strides[axis]
        view.shape[axis] = range.count
        return view
    }

    /// A view that drops axis 0, at position `index` along it (`batch[i]`).
    public func element(_ index: Int) throws -> Tensor {
        var view = try sliced(axis: 0, index..<(index + 1))
        view.shape.removeFirst()
        view.strides.removeFirst()
        view.layout = .plain
        return view
    }

    /// A view with the axes reordered: axis `i` of the result is axis `axes[i]` of this tensor.
    public func permuted(_ axes: [Int]) throws -> Tensor {
        guard axes.sorted() == Array(0..<rank) else {
            throw KilnError.invalidArgument("permutation \(axes) is not a permutation of 0..<\(rank)")
        }
        var view = self
        view.shape = axes.map { shape[$0] }
        view.strides = axes.map { strides[$0] }
        view.layout = .plain
        return view
    }

    /// The transpose of a matrix, as a view.
    public func transposed() throws -> Tensor {
        guard rank == 2 else { throw KilnError.shapeMismatch("transposed() needs a matrix, got shape \(shape)") }
        return try permuted([1, 0])
    }

    /// The same elements in a new shape; one dimension may be -1 (inferred). A view when this
    /// tensor is contiguous, a copy otherwise.
    public func reshaped(_ newShape: [Int], layout: TensorLayout = .plain) throws -> Tensor {
        var resolved = newShape
        if let inferred = newShape.firstIndex(of: -1) {
            var known = newShape
            known[inferred] = 1
            let rest = try elementCount(of: known)
            guard newShape.filter({ $0 == -1 }).count == 1, rest > 0, count % rest == 0 else {
                throw KilnError.shapeMismatch("cannot reshape \(shape) to \(newShape)")
            }
            resolved[inferred] = count / rest
        }
        guard try elementCount(of: resolved) == count else {
            throw KilnError.shapeMismatch("cannot reshape \(shape) (\(count) elements) to \(newShape)")
        }
        var view = try contiguous()
        view.shape = resolved
        view.strides = rowMajorStrides(resolved)
        view.layout = layout
        return view
    }

    // MARK: - Checks

    private func checkType<T: TensorElement>(_ type: T.Type) throws {
        guard T.dtype == dtype else {
            throw KilnError.shapeMismatch("tensor holds \(dtype), accessed as \(T.dtype)")
        }
    }

    private func checkAxis(_ axis: Int) throws {
        guard axis >= 0 && axis < rank else {
            throw KilnError.invalidArgument("axis \(axis) is outside 0..<\(rank)")
        }
    }
}

extension Tensor: Equatable {
    /// Same dtype, shape and elements (bitwise); layout and strides do not matter.
    public static func == (lhs: Tensor, rhs: Tensor) -> Bool {
        guard lhs.dtype == rhs.dtype, lhs.shape == rhs.shape,
            let a = try? lhs.contiguous(), let b = try? rhs.contiguous()
        else { return false }
        return memcmp(a.storage.bytes + a.offset * a.dtype.size, b.storage.bytes + b.offset * b.dtype.size, a.byteCount) == 0
    }
}
