import KilnCore

#if canImport(Glibc)
import Glibc
#endif

/// Load-time rewrites, independent of input shapes:
/// 1. Constant nodes become initializers; nodes computed only from initializers are folded.
/// 2. BatchNormalization after a Conv is folded into the Conv's weights and bias.
/// 3. A residual Add after a Conv, and an activation after a Conv or Gemm, are fused into it.
enum GraphOptimizer {
    static func optimize(_ graph: Graph) throws -> Graph {
        var graph = try foldConstants(graph)
        graph = try foldBatchNorms(graph)
        graph = try fuse(graph)
        return removeUnusedInitializers(graph)
    }

    static func foldConstants(_ input: Graph) throws -> Graph {
        var graph = input
        var kept: [Node] = []
        for node in graph.nodes {
            if node.opType == "Constant" {
                graph.initializers[node.outputs[0]] = try constantValue(node)
                continue
            }
            let constant = node.inputs.allSatisfy { $0.isEmpty || graph.initializers[$0] != nil }
            // Shape-dependent or sizeable work stays for the planner; fold only cheap plumbing.
            if constant && !["Conv", "Gemm", "MatMul"].contains(node.opType) {
                let op = try OperatorRegistry.make(node, opset: graph.opset)
                let results = try Plan.evaluate(op, node.inputs.map { $0.isEmpty ? nil : graph.initializers[$0] })
                for (name, tensor) in zip(node.outputs, results) where !name.isEmpty { graph.initializers[name] = tensor }
                continue
            }
            kept.append(node)
        }
        graph.nodes = kept
        return graph
    }

    private static func constantValue(_ node: Node) throws -> Tensor {
        switch (node.attributes["value"], node.attributes["value_float"], node.attributes["value_floats"],
                node.attributes["value_int"], node.attributes["value_ints"]) {
        case (.tensor(let tensor)?, _, _, _, _): return tensor
        case (_, .float(let value)?, _, _, _): return try Tensor(shape: [], values: [value])
        case (_, _, .floats(let values)?, _, _): return try Tensor(shape: [values.count], values: values)
        case (_, _, _, .int(let value)?, _): return try Tensor(shape: [], values: [Int64(value)])
        case (_, _, _, _, .ints(let values)?): return try Tensor(shape: [values.count], values: values.map { Int64($0) })
        default: throw KilnError.unsupported("\(node.label): only tensor, float(s) and int(s) constants are supported")
        }
    }

    /// Conv → BatchNormalization with constant parameters becomes one Conv:
    /// W' = W · s, B' = (B − mean) · s + beta, with s = scale / √(var + ε) per output channel.
    static func foldBatchNorms(_ input: Graph) throws -> Graph {
        var graph = input
        let consumers = graph.consumerCounts()
        let producers = Dictionary(graph.nodes.enumerated().flatMap { index, node in node.outputs.map { ($0, index) } },
                                   uniquingKeysWith: { first, _ in first })
        var removed = Set<Int>()
        for (index, node) in graph.nodes.enumerated() where node.opType == "BatchNormalization" {
            guard let source = node.input(0), let convIndex = producers[source], consumers[source] == 1,
                  graph.nodes[convIndex].opType == "Conv", !graph.outputs.contains(where: { $0.name == source }),
                  let weightName = graph.nodes[convIndex].input(1), let weights = graph.initializers[weightName],
                  weights.dtype == .float32,
                  let parameters = try? (1...4).map({ try node.input($0).flatMap { graph.initializers[$0] }.map { try $0.scalars(as: Float.self) } }),
                  let scale = parameters[0], let beta = parameters[1], let mean = parameters[2], let variance = parameters[3],
                  (try? node.int("training_mode", default: 0)) == 0
            else { continue }
            let channels = weights.shape[0]
            guard [scale, beta, mean, variance].allSatisfy({ $0.count == channels }) else { continue }
            let epsilon = try node.float("epsilon", default: 1e-5)
            var conv = graph.nodes[convIndex]
            let oldBias = try conv.input(2).flatMap { graph.initializers[$0] }.map { try $0.scalars(as: Float.self) }
                ?? [Float](repeating: 0, count: channels)
            let factors = (0..<channels).map { scale[$0] / sqrtf(variance[$0] + epsilon) }
            var w = try weights.scalars(as: Float.self)
            let perChannel = w.count / channels
            for c in 0..<channels { for i in 0..<perChannel { w[c * perChannel + i] *= factors[c] } }
            let bias = (0..<channels).map { (oldBias[$0] - mean[$0]) * factors[$0] + beta[$0] }
            let newWeights = "\(conv.name)/kiln_folded_W", newBias = "\(conv.name)/kiln_folded_B"
            graph.initializers[newWeights] = try Tensor(shape: weights.shape, values: w)
            graph.initializers[newBias] = try Tensor(shape: [channels], values: bias)
            conv.inputs = [conv.inputs[0], newWeights, newBias]
            conv.outputs = [node.outputs[0]]
            graph.nodes[convIndex] = conv
            removed.insert(index)
        }
        graph.nodes = graph.nodes.enumerated().filter { !removed.contains($0.offset) }.map(\.element)
        return graph
    }

    /// Conv → Add(other) → activation, Conv → activation and Gemm → activation become one node,
    /// placed where the last fused node was (so a residual input is computed before it runs).
    static func fuse(_ input: Graph) throws -> Graph {
        var graph = input
        var changed = true
        while changed {
            changed = false
            let consumers = graph.consumerCounts()
            let graphOutputs = Set(graph.outputs.map(\.name))
            var producers: [String: Int] = [:]
            for (index, node) in graph.nodes.enumerated() { for output in node.outputs { producers[output] = index } }
            for (index, node) in graph.nodes.enumerated() {
                // The value this node would absorb: its only input, or either operand of an Add.
                let candidates = node.opType == "Add" && node.inputs.count == 2 ? [0, 1] : [0]
                for position in candidates {
                    guard let source = node.input(position), consumers[source] == 1, !graphOutputs.contains(source),
                          let producerIndex = producers[source] else { continue }
                    var producer = graph.nodes[producerIndex]
                    guard ["Conv", "Gemm"].contains(producer.opType), !producer.hasAttribute(FusedActivation.activationAttribute) else { continue }
                    if node.opType == "Add" {
                        guard producer.opType == "Conv", !producer.hasAttribute(FusedActivation.residualAttribute),
                              let other = node.input(1 - position), other != source, graph.initializers[other] == nil else { continue }
                        producer.inputs = [producer.inputs[0], producer.inputs[1], producer.input(2) ?? "", other]
                        producer.attributes[FusedActivation.residualAttribute] = .int(1)
                    } else if let activation = try fusableActivation(node, graph) {
                        FusedActivation.write(activation, to: &producer)
                    } else {
                        continue
                    }
                    producer.outputs = node.outputs
                    graph.nodes[index] = producer
                    graph.nodes.remove(at: producerIndex)
                    changed = true
                    break
                }
                if changed { break }
            }
        }
        return graph
    }
    /// The activation a node applies, if it is a single-input activation with constant parameters.
    private static func fusableActivation(_ node: Node, _ graph: Graph) throws -> Activation? {
        guard let activation = try ActivationOp.activation(of: node, opset: graph.opset) else { return nil }
        guard case .clip(let low, let high) = activation else { return activation }
        func bound(_ index: Int) throws -> Float?? {
            guard let name = node.input(index) else { return .some(nil) }
            guard let tensor = graph.initializers[name], tensor.dtype == .float32, tensor.count == 1 else { return nil }
            return .some(try tensor.scalars(as: Float.self)[0])
        }
        guard let lowInput = try bound(1), let highInput = try bound(2) else { return nil }
        return .clip(min: lowInput ?? low, max: highInput ?? high)
    }

    static func removeUnusedInitializers(_ input: Graph) -> Graph {
        var graph = input
        let used = Set(graph.nodes.flatMap(\.inputs)).union(graph.outputs.map(\.name))
        graph.initializers = graph.initializers.filter { used.contains($0.key) }
        return graph
    }
}
