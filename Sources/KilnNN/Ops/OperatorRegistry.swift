import KilnCore

/// Turns a node into its operator, validating its attributes: an unsupported operator or a
/// bad attribute is a load-time error that names the node.
enum OperatorRegistry {
    /// The ONNX operators Kiln runs (besides Constant, which loading turns into an initializer).
    static let supported: [String] = [
        "Add", "AveragePool", "BatchNormalization", "Cast", "Clip", "Concat", "ConstantOfShape", "Conv", "Div", "Dropout",
        "Flatten", "Gather", "Gemm", "GlobalAveragePool", "GlobalMaxPool", "HardSigmoid", "HardSwish", "Identity",
        "LeakyRelu", "MatMul", "MaxPool", "Mul", "Pad", "ReduceMax", "ReduceMean", "ReduceSum", "Relu", "Reshape",
        "Shape", "Sigmoid", "Slice", "Softmax", "Squeeze", "Sub", "Tanh", "Transpose", "Unsqueeze",
    ]

    static func make(_ node: Node, opset: Int) throws -> any Operator {
        let label = node.label
        if let activation = try ActivationOp.activation(of: node, opset: opset) {
            return ActivationOp(activation: activation, label: label)
        }
        switch node.opType {
        case "Conv": return try ConvOp(node: node)
        case "MaxPool": return try PoolOp(kind: .max, node: node)
        case "AveragePool": return try PoolOp(kind: .average, node: node)
        case "GlobalAveragePool": return GlobalPoolOp(isMax: false, label: label)
        case "GlobalMaxPool": return GlobalPoolOp(isMax: true, label: label)
        case "BatchNormalization": return try BatchNormOp(node: node)
        case "Add", "Sub", "Mul", "Div": return BinaryOp(kind: BinaryOp.Kind(rawValue: node.opType)!, label: label)
        case "Gemm": return try GemmOp(node: node)
        case "MatMul": return MatMulOp(label: label)
        case "Softmax":
            return SoftmaxOp(label: label, axis: try node.int("axis", default: opset < 13 ? 1 : -1), coerceTo2D: opset < 13)
        case "ReduceMean", "ReduceSum", "ReduceMax":
            let axesAreInput = node.opType == "ReduceSum" ? opset >= 13 : opset >= 18
            return ReduceOp(kind: ReduceOp.Kind(rawValue: node.opType)!, label: label, keepDims: try node.int("keepdims", default: 1) != 0,
                            attributeAxes: axesAreInput ? nil : try node.ints("axes", default: []),
                            noopWithEmptyAxes: try node.int("noop_with_empty_axes", default: 0) != 0)
        case "Identity": return IdentityOp(label: label)
        case "Dropout":
            if node.outputs.count > 1 && !node.outputs[1].isEmpty {
                throw KilnError.unsupported("\(label): the mask output of Dropout is not supported (inference graphs do not use it)")
            }
            return IdentityOp(label: label)
        case "Reshape": return ReshapeOp(label: label, allowZero: try node.int("allowzero", default: 0) != 0)
        case "Flatten": return FlattenOp(label: label, axis: try node.int("axis", default: 1))
        case "Squeeze", "Unsqueeze":
            return SqueezeOp(label: label, unsqueeze: node.opType == "Unsqueeze",
                             attributeAxes: opset < 13 ? try node.ints("axes", default: node.opType == "Unsqueeze" ? nil : []) : nil)
        case "Transpose": return TransposeOp(label: label, permutation: node.hasAttribute("perm") ? try node.ints("perm") : nil)
        case "Concat": return ConcatOp(label: label, axis: try node.int("axis"))
        case "Shape": return ShapeOp(label: label, start: try node.int("start", default: 0), end: node.hasAttribute("end") ? try node.int("end") : nil)
        case "Gather": return GatherOp(label: label, axis: try node.int("axis", default: 0))
        case "Slice": return SliceOp(label: label)
        case "Cast": return CastOp(label: label, target: try ONNXImporter.dtype(forElementType: Int32(try node.int("to")), of: "\(label) target"))
        case "ConstantOfShape":
            var value: Tensor?
            if case .tensor(let tensor)? = node.attributes["value"] { value = tensor }
            return ConstantOfShapeOp(label: label, value: value)
        case "Pad": return try PadOp(node: node)
        default:
            throw KilnError.unsupported("operator '\(node.opType)' (\(label)) is not supported; Kiln runs: \(supported.joined(separator: ", "))")
        }
    }
}
