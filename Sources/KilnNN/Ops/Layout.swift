@_spi(KilnInternals) import KilnCore

/// Reshape: 0 copies the input dimension (unless allowzero), -1 is inferred. A view.
struct ReshapeOp: Operator {
    let label: String
    let allowZero: Bool

    func plan(_ values: [PlannedValue?]) throws -> Step {
        let inputs = Inputs(values, label)
        let data = try inputs.required(0, "data").type
        guard let requested = try inputs.constantInts(1, "shape") else { throw KilnError.format("\(label): input 1 (shape) is missing") }
        var shape = requested
        for (axis, dimension) in requested.enumerated() where dimension == 0 && !allowZero {
            guard axis < data.shape.count else { throw KilnError.shapeMismatch("\(label): shape \(requested) copies axis \(axis) of \(data.shape), which has no such axis") }
            shape[axis] = data.shape[axis]
        }
        guard shape.filter({ $0 == -1 }).count <= 1, shape.allSatisfy({ $0 >= -1 }) else {
            throw KilnError.shapeMismatch("\(label): invalid target shape \(requested)")
        }
        if let inferred = shape.firstIndex(of: -1) {
            let known = shape.enumerated().filter { $0.offset != inferred }.reduce(1) { $0 * $1.element }
            guard known > 0, data.count % known == 0 else {
                throw KilnError.shapeMismatch("\(label): cannot reshape \(data.shape) to \(requested)")
            }
            shape[inferred] = data.count / known
        }
        guard try checkedCount(shape, data.dtype, label) == data.count else {
            throw KilnError.shapeMismatch("\(label): cannot reshape \(data.shape) (\(data.count) elements) to \(requested)")
        }
        return aliasStep(ValueType(dtype: data.dtype, shape: shape))
    }
}

/// Flatten to 2-D at `axis`. A view.
struct FlattenOp: Operator {
    let label: String
    let axis: Int

    func plan(_ values: [PlannedValue?]) throws -> Step {
        let data = try Inputs(values, label).required(0, "input").type
        let rank = data.shape.count
        let split = axis < 0 ? axis + rank : axis
        guard split >= 0 && split <= rank else { throw KilnError.invalidArgument("\(label): axis \(axis) is out of range for rank \(rank)") }
        return aliasStep(ValueType(dtype: data.dtype, shape: [data.shape[..<split].reduce(1, *), data.shape[split...].reduce(1, *)]))
    }
}

/// Squeeze and Unsqueeze (axes from the attribute before opset 13, from input 1 after). Views.
struct SqueezeOp: Operator {
    let label: String
    let unsqueeze: Bool
    let attributeAxes: [Int]?

    func plan(_ values: [PlannedValue?]) throws -> Step {
        let inputs = Inputs(values, label)
        let data = try inputs.required(0, "data").type
        let axes = try attributeAxes ?? inputs.constantInts(1, "axes")
        var shape = data.shape
        if unsqueeze {
            guard let axes else { throw KilnError.format("\(label): axes are required") }
            let rank = shape.count + axes.count
            let resolved = try axes.map { try normalizedAxis($0, rank: rank, label) }.sorted()
            guard Set(resolved).count == resolved.count else { throw KilnError.invalidArgument("\(label): repeated axis in \(axes)") }
            for axis in resolved { shape.insert(1, at: axis) }
        } else if let axes {
            let resolved = try Set(axes.map { try normalizedAxis($0, rank: shape.count, label) })
            for axis in resolved where shape[axis] != 1 {
                throw KilnError.shapeMismatch("\(label): cannot squeeze axis \(axis) of shape \(data.shape): its size is not 1")
            }
            shape = shape.enumerated().filter { !resolved.contains($0.offset) }.map(\.element)
        } else {
            shape = shape.filter { $0 != 1 }
        }
        return aliasStep(ValueType(dtype: data.dtype, shape: shape))
    }
}

/// Transpose by `perm` (default: reverse the axes). Any dtype.
struct TransposeOp: Operator {
    let label: String
    let permutation: [Int]?

    func plan(_ values: [PlannedValue?]) throws -> Step {
        let data = try Inputs(values, label).required(0, "data").type
        let rank = data.shape.count
        let perm = permutation ?? Array((0..<rank).reversed())
        guard perm.sorted() == Array(0..<rank) else {
            throw KilnError.invalidArgument("\(label): perm \(perm) is not a permutation of the \(rank) axes of \(data.shape)")
        }
        let inputStrides = rowMajorStrides(data.shape)
        let size = data.dtype.size
        let shape = perm.map { data.shape[$0] }
        let strides = perm.map { inputStrides[$0] * size }
        return Step(outputs: [ValueType(dtype: data.dtype, shape: shape)], kernel: "transpose-strided-copy") { inputs, outputs in
            copyStrided(from: inputs[0]!.pointer, strides: strides, shape: shape, elementSize: size, to: outputs[0].pointer)
        }
    }
}

/// Concat along `axis`. Any dtype.
struct ConcatOp: Operator {
    let label: String
    let axis: Int

    func plan(_ values: [PlannedValue?]) throws -> Step {
        let parts = try values.enumerated().map { index, value in
            guard let value else { throw KilnError.format("\(label): input \(index) is missing") }
            return value.type
        }
        guard let first = parts.first else { throw KilnError.format("\(label): no inputs") }
        let axis = try normalizedAxis(self.axis, rank: first.shape.count, label)
        var shape = first.shape
        shape[axis] = 0
        for part in parts {
            var expected = first.shape
            expected[axis] = part.shape.count == first.shape.count ? part.shape[axis] : -1
            guard part.dtype == first.dtype, part.shape == expected else {
                throw KilnError.shapeMismatch("\(label): inputs \(parts.map(\.shape)) (\(parts.map(\.dtype))) differ outside axis \(axis)")
            }
            shape[axis] += part.shape[axis]
        }
        let outer = first.shape[..<axis].reduce(1, *)
        let chunks = parts.map { $0.shape[axis...].reduce(1, *) * $0.dtype.size }
        let total = chunks.reduce(0, +)
        return Step(outputs: [ValueType(dtype: first.dtype, shape: shape)], kernel: "concat-copy") { inputs, outputs in
            for row in 0..<outer {
                var offset = row * total
                for (index, chunk) in chunks.enumerated() {
                    (outputs[0].pointer + offset).copyMemory(from: inputs[index]!.pointer + row * chunk, byteCount: chunk)
                    offset += chunk
                }
            }
        }
    }
}

/// Shape (with start/end from opset 15): known when planning.
struct ShapeOp: Operator {
    let label: String
    let start: Int
    let end: Int?

    func plan(_ values: [PlannedValue?]) throws -> Step {
        let shape = try Inputs(values, label).required(0, "data").type.shape
        let rank = shape.count
        func clamp(_ value: Int) -> Int { min(max(value < 0 ? value + rank : value, 0), rank) }
        let (low, high) = (clamp(start), clamp(end ?? rank))
        let selected = low < high ? Array(shape[low..<high]) : []
        return constantStep([try Tensor(shape: [selected.count], values: selected.map { Int64($0) })])
    }
}

/// Gather along `axis` with int64/int32 indices (negative ones count from the end). Any dtype.
struct GatherOp: Operator {
    let label: String
    let axis: Int

    func plan(_ values: [PlannedValue?]) throws -> Step {
        let inputs = Inputs(values, label)
        let data = try inputs.required(0, "data").type, indices = try inputs.required(1, "indices").type
        guard indices.dtype == .int64 || indices.dtype == .int32 else {
            throw KilnError.shapeMismatch("\(label): indices must be int64 or int32, got \(indices.dtype)")
        }
        let axis = try normalizedAxis(self.axis, rank: data.shape.count, label)
        let shape = Array(data.shape[..<axis]) + indices.shape + Array(data.shape[(axis + 1)...])
        let outer = data.shape[..<axis].reduce(1, *), extent = data.shape[axis]
        let chunk = data.shape[(axis + 1)...].reduce(1, *) * data.dtype.size
        let count = indices.count, wide = indices.dtype == .int64, label = self.label
        return Step(outputs: [ValueType(dtype: data.dtype, shape: shape)], kernel: "gather-copy") { inputs, outputs in
            let (source, target, index) = (inputs[0]!.pointer, outputs[0].pointer, inputs[1]!.pointer)
            for i in 0..<count {
                var position = wide ? Int(index.load(fromByteOffset: i * 8, as: Int64.self)) : Int(index.load(fromByteOffset: i * 4, as: Int32.self))
                if position < 0 { position += extent }
                guard position >= 0 && position < extent else {
                    throw KilnError.invalidArgument("\(label): index \(position) is out of range for axis size \(extent)")
                }
                for row in 0..<outer {
                    (target + (row * count + i) * chunk).copyMemory(from: source + (row * extent + position) * chunk, byteCount: chunk)
                }
            }
        }
    }
}

/// Slice with constant starts, ends, axes and steps (negative steps too). Any dtype.
struct SliceOp: Operator {
    let label: String

    func plan(_ values: [PlannedValue?]) throws -> Step {
        let inputs = Inputs(values, label)
        let data = try inputs.required(0, "data").type
        guard let starts = try inputs.constantInts(1, "starts"), let ends = try inputs.constantInts(2, "ends") else {
            throw KilnError.format("\(label): starts and ends are required")
        }
        let rank = data.shape.count
        let axes = try (inputs.constantInts(3, "axes") ?? Array(0..<starts.count)).map { try normalizedAxis($0, rank: rank, label) }
        let steps = try inputs.constantInts(4, "steps") ?? [Int](repeating: 1, count: starts.count)
        guard starts.count == ends.count, axes.count == starts.count, steps.count == starts.count, !steps.contains(0) else {
            throw KilnError.invalidArgument("\(label): starts, ends, axes and steps must have one length and steps no zero")
        }
        var first = [Int](repeating: 0, count: rank), step = [Int](repeating: 1, count: rank), shape = data.shape
        for (i, axis) in axes.enumerated() {
            let size = data.shape[axis]
            func resolve(_ value: Int) -> Int { value < 0 ? value + size : value }
            if steps[i] > 0 {
                let low = min(max(resolve(starts[i]), 0), size), high = min(max(resolve(ends[i]), 0), size)
                first[axis] = low
                shape[axis] = high > low ? (high - low + steps[i] - 1) / steps[i] : 0
            } else {
                let low = min(max(resolve(starts[i]), -1), size - 1), high = min(max(resolve(ends[i]), -1), size - 1)
                first[axis] = low
                shape[axis] = low > high ? (low - high - steps[i] - 1) / -steps[i] : 0
            }
            step[axis] = steps[i]
        }
        let size = data.dtype.size
        let dataStrides = rowMajorStrides(data.shape)
        let offset = zip(first, dataStrides).reduce(0) { $0 + $1.0 * $1.1 } * size
        let strides = (0..<rank).map { dataStrides[$0] * step[$0] * size }
        let outputShape = shape
        return Step(outputs: [ValueType(dtype: data.dtype, shape: outputShape)], kernel: "slice-strided-copy") { inputs, outputs in
            copyStrided(from: inputs[0]!.pointer + offset, strides: strides, shape: outputShape, elementSize: size, to: outputs[0].pointer)
        }
    }
}

/// Cast between float32, int64, int32 and uint8/bool. Float → integer truncates toward zero and
/// saturates; NaN becomes 0 (never a trap).
struct CastOp: Operator {
    let label: String
    let target: DType

    func plan(_ values: [PlannedValue?]) throws -> Step {
        let source = try Inputs(values, label).required(0, "input").type
        let count = source.count, target = self.target
        return Step(outputs: [ValueType(dtype: target, shape: source.shape)], kernel: "cast-\(source.dtype)-\(target)") { inputs, outputs in
            let (from, to) = (inputs[0]!, outputs[0])
            for i in 0..<count {
                let value: Double = switch source.dtype {
                case .float32: Double(from.elements(Float.self)[i])
                case .int64: Double(from.elements(Int64.self)[i])
                case .int32: Double(from.elements(Int32.self)[i])
                case .uint8: Double(from.elements(UInt8.self)[i])
                }
                switch target {
                case .float32: to.elements(Float.self)[i] = source.dtype == .int64 ? Float(from.elements(Int64.self)[i]) : Float(value)
                case .int64: to.elements(Int64.self)[i] = source.dtype == .int64 ? from.elements(Int64.self)[i] : saturating(value)
                case .int32: to.elements(Int32.self)[i] = saturating(value)
                case .uint8: to.elements(UInt8.self)[i] = saturating(value)
                }
            }
        }
    }
}

func saturating<T: FixedWidthInteger>(_ value: Double) -> T {
    guard !value.isNaN else { return 0 }
    if value <= Double(T.min) { return T.min }
    if value >= Double(T.max) { return T.max }
    return T(value.rounded(.towardZero))
}

/// ConstantOfShape: a tensor of the given shape filled with `value` (default float 0).
struct ConstantOfShapeOp: Operator {
    let label: String
    let value: Tensor?

    func plan(_ values: [PlannedValue?]) throws -> Step {
        guard let shape = try Inputs(values, label).constantInts(0, "shape") else { throw KilnError.format("\(label): shape is missing") }
        let fill = try value ?? Tensor(shape: [1], values: [Float(0)])
        guard fill.count == 1 else { throw KilnError.shapeMismatch("\(label): value must hold one element, got shape \(fill.shape)") }
        let result = try Tensor(zeros: shape, dtype: fill.dtype)
        let size = fill.dtype.size
        let base = result.unsafeBaseAddress  // a new tensor: nobody else holds its storage
        for i in 0..<result.count { (base + i * size).copyMemory(from: fill.unsafeBaseAddress, byteCount: size) }
        return constantStep([result])
    }
}
