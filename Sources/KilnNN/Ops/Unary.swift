import KilnCore

/// Relu, LeakyRelu, Clip, Sigmoid, Tanh, HardSigmoid, HardSwish on float32.
struct ActivationOp: Operator {
    let activation: Activation
    let label: String

    /// Reads the activation a node describes; nil if the node is not one. Clip's bounds come
    /// from constant inputs from opset 11 on, so they are resolved in `plan`.
    static func activation(of node: Node, opset: Int) throws -> Activation? {
        switch node.opType {
        case "Relu": return .relu
        case "LeakyRelu": return .leakyRelu(alpha: try node.float("alpha", default: 0.01))
        case "Sigmoid": return .sigmoid
        case "Tanh": return .tanh
        case "HardSigmoid":
            return .hardSigmoid(alpha: try node.float("alpha", default: 0.2), beta: try node.float("beta", default: 0.5))
        case "HardSwish": return .hardSwish
        case "Clip":
            return .clip(min: try node.float("min", default: -Float.greatestFiniteMagnitude),
                         max: try node.float("max", default: Float.greatestFiniteMagnitude))
        default: return nil
        }
    }

    func plan(_ values: [PlannedValue?]) throws -> Step {
        let inputs = Inputs(values, label)
        let type = try inputs.float(0, "X")
        var resolved = self.activation
        if case .clip(let low, let high) = resolved {  // opset >= 11: min and max are inputs
            resolved = .clip(min: try inputs.constantFloat(1, "min") ?? low, max: try inputs.constantFloat(2, "max") ?? high)
        }
        let activation = resolved
        let count = type.count
        return Step(outputs: [type], flops: count, kernel: "f32-\(activation.name)-simd16") { inputs, outputs in
            outputs[0].floats.update(from: inputs[0]!.floats, count: count)
            activation.apply(outputs[0].floats, count: count)
        }
    }
}

/// Identity and Dropout (inference): the output is the input.
struct IdentityOp: Operator {
    let label: String

    func plan(_ values: [PlannedValue?]) throws -> Step {
        aliasStep(try Inputs(values, label).required(0, "input").type)
    }
}
