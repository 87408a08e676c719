import KilnCore

/// A value's element type and shape, once input shapes are known.
struct ValueType: Sendable, Equatable {
    var dtype: DType
    var shape: [Int]
    var count: Int { shape.reduce(1, *) }
    var byteCount: Int { count * dtype.size }
}

/// A value while a plan is built: its type, and its contents when known before running
/// (initializers, and everything computed only from them and from shapes).
struct PlannedValue: Sendable {
    var type: ValueType
    var constant: Tensor?
}

/// Where a kernel finds a tensor at run time: through a slot that holds the address, so that a
/// plan can point graph inputs and outputs at the caller's memory on each run (no copies).
struct Buffer: @unchecked Sendable {
    let slot: UnsafeMutablePointer<UnsafeMutableRawPointer>
    let type: ValueType

    var pointer: UnsafeMutableRawPointer { slot.pointee }

    var floats: UnsafeMutablePointer<Float> { pointer.assumingMemoryBound(to: Float.self) }
    func elements<T>(_ type: T.Type) -> UnsafeMutablePointer<T> { pointer.assumingMemoryBound(to: T.self) }
    var shape: [Int] { type.shape }
}

/// One operator, specialised for known input shapes: the output types, the work, and the
/// function that computes outputs from inputs in buffers planned beforehand.
struct Step: Sendable {
    var outputs: [ValueType]
    /// Floating-point operations per run (multiply-adds count 2), for `kiln nn info` and benchmarks.
    var flops: Int = 0
    /// Output 0 is input 0's bytes under another shape (Reshape, Flatten, Squeeze ...): no work.
    var aliasesFirstInput = false
    /// The kernel that ran, for reports (`f32-conv-im2col-sgemm` ...).
    var kernel: String = ""
    /// Outputs known at plan time although the inputs are not (Shape: it depends on shapes only).
    var constants: [Tensor]? = nil
    var run: @Sendable (_ inputs: [Buffer?], _ outputs: [Buffer]) throws -> Void
}

/// An operator bound to its node's attributes (validated when the model loads).
protocol Operator: Sendable {
    /// Checks input types (and needed constant inputs) and specialises for their shapes.
    func plan(_ inputs: [PlannedValue?]) throws -> Step
}

extension Operator {
    /// Step for an operator that only changes the shape of its first input.
    func aliasStep(_ output: ValueType) -> Step {
        Step(outputs: [output], aliasesFirstInput: true, kernel: "view") { _, _ in }
    }

    /// Step whose outputs are known while planning.
    func constantStep(_ tensors: [Tensor]) -> Step {
        Step(outputs: tensors.map { ValueType(dtype: $0.dtype, shape: $0.shape) }, kernel: "constant", constants: tensors) { _, _ in }
    }
}

/// Input helpers with errors that name the node.
struct Inputs {
    let values: [PlannedValue?]
    let label: String

    init(_ values: [PlannedValue?], _ label: String) {
        self.values = values
        self.label = label
    }

    func required(_ index: Int, _ what: String) throws -> PlannedValue {
        guard index < values.count, let value = values[index] else {
            throw KilnError.format("\(label): input \(index) (\(what)) is missing")
        }
        return value
    }

    func optional(_ index: Int) -> PlannedValue? { index < values.count ? values[index] : nil }

    func float(_ index: Int, _ what: String) throws -> ValueType {
        let value = try required(index, what)
        guard value.type.dtype == .float32 else {
            throw KilnError.shapeMismatch("\(label): \(what) must be float32, got \(value.type.dtype)")
        }
        return value.type
    }

    /// A constant integer input (shapes, axes, pads), as Ints.
    func constantInts(_ index: Int, _ what: String) throws -> [Int]? {
        guard let value = optional(index) else { return nil }
        guard let constant = value.constant else {
            throw KilnError.unsupported("\(label): \(what) must be known when the model is planned (computed from shapes or constants), but it depends on input data")
        }
        switch constant.dtype {
        case .int64: return try constant.scalars(as: Int64.self).map { Int($0) }
        case .int32: return try constant.scalars(as: Int32.self).map { Int($0) }
        default: throw KilnError.shapeMismatch("\(label): \(what) must be int64, got \(constant.dtype)")
        }
    }

    /// A constant scalar float input (Clip's min/max, Pad's value).
    func constantFloat(_ index: Int, _ what: String) throws -> Float? {
        guard let value = optional(index) else { return nil }
        guard let constant = value.constant else {
            throw KilnError.unsupported("\(label): \(what) must be a constant")
        }
        guard constant.count == 1 else { throw KilnError.shapeMismatch("\(label): \(what) must be a scalar, got shape \(constant.shape)") }
        switch constant.dtype {
        case .float32: return try constant.scalars(as: Float.self)[0]
        case .int64: return Float(try constant.scalars(as: Int64.self)[0])
        case .int32: return Float(try constant.scalars(as: Int32.self)[0])
        case .uint8: return Float(try constant.scalars(as: UInt8.self)[0])
        }
    }
}

/// Elements of `shape`, or an error if it is negative, overflows or needs 2⁴⁰ bytes or more
/// of `dtype` (a model can ask for any shape; planning must not trap on one).
func checkedCount(_ shape: [Int], _ dtype: DType, _ label: String) throws -> Int {
    var count = 1
    for size in shape {
        let (product, overflow) = count.multipliedReportingOverflow(by: size)
        guard size >= 0, !overflow, product < (1 << 40) / dtype.size else {
            throw KilnError(.outOfMemory, "\(label): a tensor of shape \(shape) is too large")
        }
        count = product
    }
    return count
}

/// Resolves a possibly negative axis against `rank`.
func normalizedAxis(_ axis: Int, rank: Int, _ label: String) throws -> Int {
    let resolved = axis < 0 ? axis + rank : axis
    guard resolved >= 0 && resolved < rank else {
        throw KilnError.invalidArgument("\(label): axis \(axis) is out of range for rank \(rank)")
    }
    return resolved
}
