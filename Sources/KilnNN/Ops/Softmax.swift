import KilnCore

#if canImport(Glibc)
import Glibc
#endif

/// Softmax along `axis` (opset 13+), or over the flattened trailing axes (before 13).
struct SoftmaxOp: Operator {
    let label: String
    let axis: Int
    let coerceTo2D: Bool

    func plan(_ values: [PlannedValue?]) throws -> Step {
        let x = try Inputs(values, label).float(0, "input")
        let rank = x.shape.count
        let axis = try normalizedAxis(self.axis, rank: max(rank, 1), label)
        // Rows of `length` elements, `inner` apart, reduced independently.
        let (outer, length, inner) = coerceTo2D
            ? (x.shape[..<axis].reduce(1, *), x.shape[axis...].reduce(1, *), 1)
            : (x.shape[..<axis].reduce(1, *), x.shape[axis], x.shape[(axis + 1)...].reduce(1, *))
        return Step(outputs: [x], flops: 3 * x.count, kernel: "f32-softmax") { inputs, outputs in
            let (source, target) = (inputs[0]!.floats, outputs[0].floats)
            for o in 0..<outer {
                for i in 0..<inner {
                    let base = o * length * inner + i
                    var largest = -Float.infinity
                    for k in 0..<length { largest = max(largest, source[base + k * inner]) }
                    var sum: Float = 0
                    for k in 0..<length {
                        let e = expf(source[base + k * inner] - largest)
                        target[base + k * inner] = e
                        sum += e
                    }
                    let scale = 1 / sum
                    for k in 0..<length { target[base + k * inner] *= scale }
                }
            }
        }
    }
}

/// ReduceMean, ReduceSum and ReduceMax over `axes` (attribute before opset 18, input after).
struct ReduceOp: Operator {
    enum Kind: String, Sendable { case mean = "ReduceMean", sum = "ReduceSum", max = "ReduceMax" }
    let kind: Kind
    let label: String
    let keepDims: Bool
    let attributeAxes: [Int]?
    let noopWithEmptyAxes: Bool

    func plan(_ values: [PlannedValue?]) throws -> Step {
        let inputs = Inputs(values, label)
        let x = try inputs.float(0, "data")
        let rank = x.shape.count
        let requested = try attributeAxes ?? inputs.constantInts(1, "axes") ?? []
        if requested.isEmpty && noopWithEmptyAxes { return aliasStep(x) }
        let axes = Set(try (requested.isEmpty ? Array(0..<rank) : requested).map { try normalizedAxis($0, rank: rank, label) })
        let kept = (0..<rank).map { axes.contains($0) ? 1 : x.shape[$0] }
        let shape = keepDims ? kept : (0..<rank).filter { !axes.contains($0) }.map { x.shape[$0] }
        // Walk the input with the reduced axes broadcast in the output: out[i] ⊕= in[j].
        let walk = BroadcastWalk(output: x.shape, operands: [x.shape, kept])
        let reduced = axes.reduce(1) { $0 * x.shape[$1] }, outputCount = kept.reduce(1, *)
        let kind = self.kind
        return Step(outputs: [ValueType(dtype: .float32, shape: shape)], flops: x.count, kernel: "f32-\(kind.rawValue.lowercased())") { inputs, outputs in
            let (source, target) = (inputs[0]!.floats, outputs[0].floats)
            target.update(repeating: kind == .max ? -.infinity : 0, count: outputCount)
            let (strideIn, strideOut) = (walk.strides[0].last!, walk.strides[1].last!)
            walk.forEachRun { offsets, _, count in
                let (x, y) = (source + offsets[0], target + offsets[1])
                for i in 0..<count {
                    let value = x[i * strideIn]
                    if kind == .max {
                        if value > y[i * strideOut] || value.isNaN { y[i * strideOut] = value }
                    } else {
                        y[i * strideOut] += value
                    }
                }
            }
            if kind == .mean {
                let scale = 1 / Float(max(reduced, 1))
                for i in 0..<outputCount { target[i] *= scale }
            }
        }
    }
}
