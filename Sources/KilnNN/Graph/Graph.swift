import KilnCore

/// One dimension of a declared input or output shape.
public enum Dimension: Sendable, Hashable, CustomStringConvertible {
    case fixed(Int)
    /// A named or unknown dimension, such as a dynamic batch (`N`, `batch_size`, `?`).
    case symbolic(String)

    public var description: String {
        switch self {
        case .fixed(let value): String(value)
        case .symbolic(let name): name.isEmpty ? "?" : name
        }
    }
}

/// A graph input or output as the model declares it.
public struct TensorInfo: Sendable, Equatable, CustomStringConvertible {
    public let name: String
    public let dtype: DType
    public let shape: [Dimension]

    public var description: String { "\(name): \(dtype)[\(shape.map(\.description).joined(separator: ", "))]" }
}

/// A node attribute, as ONNX defines them.
public enum Attribute: Sendable {
    case int(Int)
    case float(Float)
    case string(String)
    case ints([Int])
    case floats([Float])
    case strings([String])
    case tensor(Tensor)
}

/// One operator application. Inputs may be `""` for an omitted optional input.
public struct Node: Sendable {
    public var name: String
    public var opType: String
    public var inputs: [String]
    public var outputs: [String]
    public var attributes: [String: Attribute]

    public init(name: String, opType: String, inputs: [String], outputs: [String], attributes: [String: Attribute] = [:]) {
        self.name = name
        self.opType = opType
        self.inputs = inputs
        self.outputs = outputs
        self.attributes = attributes
    }

    /// Input `index`, or nil when absent or empty (an omitted optional input).
    func input(_ index: Int) -> String? {
        index < inputs.count && !inputs[index].isEmpty ? inputs[index] : nil
    }

    /// How the node is named in error messages.
    var label: String { "\(opType) node '\(name.isEmpty ? outputs.first ?? "?" : name)'" }
}

/// A computation graph: nodes in topological order, constant initializers, declared inputs
/// and outputs. What `ONNXImporter` produces and `GraphOptimizer` rewrites.
public struct Graph: Sendable {
    public var nodes: [Node]
    public var initializers: [String: Tensor]
    public var inputs: [TensorInfo]
    public var outputs: [TensorInfo]
    /// The default-domain opset the model was exported with.
    public var opset: Int

    /// Number of nodes of each operator type.
    public var operatorCounts: [(String, Int)] {
        var counts: [String: Int] = [:]
        for node in nodes { counts[node.opType, default: 0] += 1 }
        return counts.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
    }

    /// Elements in all float initializers (the trainable parameters, after folding).
    public var parameterCount: Int {
        initializers.values.filter { $0.dtype == .float32 }.reduce(0) { $0 + $1.count }
    }

    /// How many nodes read each value (graph outputs count as readers).
    func consumerCounts() -> [String: Int] {
        var counts: [String: Int] = [:]
        for node in nodes { for input in node.inputs where !input.isEmpty { counts[input, default: 0] += 1 } }
        for output in outputs { counts[output.name, default: 0] += 1 }
        return counts
    }
}
