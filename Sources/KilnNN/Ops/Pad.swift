import KilnCore

/// Pad (opset 11+: pads and constant_value as inputs; axes from opset 18) in constant,
/// reflect and edge modes, float32.
struct PadOp: Operator {
    enum Mode: String, Sendable { case constant, reflect, edge }
    let label: String
    let mode: Mode

    init(node: Node) throws {
        label = node.label
        let name = try node.string("mode", default: "constant")
        guard let mode = Mode(rawValue: name) else {
            throw KilnError.unsupported("\(node.label): pad mode '\(name)' (supported: constant, reflect, edge)")
        }
        self.mode = mode
    }

    func plan(_ values: [PlannedValue?]) throws -> Step {
        let inputs = Inputs(values, label)
        let data = try inputs.float(0, "data")
        let rank = data.shape.count
        guard let pads = try inputs.constantInts(1, "pads") else { throw KilnError.format("\(label): pads are required") }
        let value = try inputs.constantFloat(2, "constant_value") ?? 0
        let axes = try (inputs.constantInts(3, "axes") ?? Array(0..<rank)).map { try normalizedAxis($0, rank: rank, label) }
        guard pads.count == 2 * axes.count else {
            throw KilnError.shapeMismatch("\(label): pads has \(pads.count) values, expected \(2 * axes.count)")
        }
        var before = [Int](repeating: 0, count: rank), after = before
        for (i, axis) in axes.enumerated() {
            before[axis] = pads[i]
            after[axis] = pads[axes.count + i]
        }
        let shape = try (0..<rank).map { axis in
            let (size, overflow) = data.shape[axis].addingReportingOverflow(before[axis] &+ after[axis])
            guard !overflow, abs(before[axis]) < 1 << 40, abs(after[axis]) < 1 << 40 else {
                throw KilnError.invalidArgument("\(label): pads \(pads) are out of range")
            }
            return size
        }
        guard shape.allSatisfy({ $0 >= 0 }) else { throw KilnError.shapeMismatch("\(label): pads \(pads) crop \(data.shape) below zero") }
        if mode != .constant {
            for axis in 0..<rank where before[axis] != 0 || after[axis] != 0 {
                let limit = mode == .reflect ? data.shape[axis] - 1 : (data.shape[axis] > 0 ? Int.max : 0)
                guard before[axis] <= limit && after[axis] <= limit, before[axis] >= 0, after[axis] >= 0 else {
                    throw KilnError.shapeMismatch("\(label): \(mode.rawValue) padding of \(max(before[axis], after[axis])) on axis \(axis) of size \(data.shape[axis]) is not possible")
                }
            }
        }
        let mode = self.mode, leading = before
        let inputShape = data.shape, inputStrides = rowMajorStrides(data.shape)
        let count = try checkedCount(shape, .float32, label)
        return Step(outputs: [ValueType(dtype: .float32, shape: shape)], kernel: "f32-pad-\(mode.rawValue)") { inputs, outputs in
            let (x, y) = (inputs[0]!.floats, outputs[0].floats)
            var index = [Int](repeating: 0, count: rank)
            for position in 0..<count {
                var source = 0, inside = true
                for axis in 0..<rank {
                    var i = index[axis] - leading[axis]
                    let size = inputShape[axis]
                    if i < 0 || i >= size {
                        switch mode {
                        case .constant: inside = false
                        case .edge: i = i < 0 ? 0 : size - 1
                        case .reflect: i = i < 0 ? -i : 2 * (size - 1) - i
                        }
                    }
                    source += i * inputStrides[axis]
                }
                y[position] = inside ? x[source] : value
                var axis = rank - 1
                while axis >= 0 {
                    index[axis] += 1
                    if index[axis] < shape[axis] { break }
                    index[axis] = 0
                    axis -= 1
                }
            }
        }
    }
}
