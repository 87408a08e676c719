import KilnCore
import Testing

@testable import KilnNN

@Suite struct GraphOptimizerTests {
    /// Conv → BatchNormalization → Add(residual) → Relu becomes one node, with the same outputs
    /// as the unfused graph computed step by step.
    @Test func foldsBatchNormAndFusesResidualAndActivation() throws {
        let channels = 4
        var initializers: [String: Tensor] = [
            "W": try Tensor(shape: [channels, channels, 3, 3], values: randomValues(channels * channels * 9, seed: 1, scale: 0.3)),
        ]
        for (name, seed) in [("scale", 2), ("beta", 3), ("mean", 4)] {
            initializers[name] = try Tensor(shape: [channels], values: randomValues(channels, seed: UInt64(seed)))
        }
        initializers["var"] = try Tensor(shape: [channels], values: randomValues(channels, seed: 5).map { abs($0) + 0.5 })
        let nodes = [
            Node(name: "conv", opType: "Conv", inputs: ["x", "W"], outputs: ["c"], attributes: ["kernel_shape": .ints([3, 3]), "pads": .ints([1, 1, 1, 1])]),
            Node(name: "bn", opType: "BatchNormalization", inputs: ["c", "scale", "beta", "mean", "var"], outputs: ["b"]),
            Node(name: "add", opType: "Add", inputs: ["x", "b"], outputs: ["s"]),
            Node(name: "relu", opType: "Relu", inputs: ["s"], outputs: ["y"]),
        ]
        let graph = Graph(nodes: nodes, initializers: initializers,
                          inputs: [TensorInfo(name: "x", dtype: .float32, shape: [.fixed(1), .fixed(channels), .fixed(6), .fixed(6)])],
                          outputs: [TensorInfo(name: "y", dtype: .float32, shape: [])], opset: 17)
        let optimized = try GraphOptimizer.optimize(graph)
        #expect(optimized.nodes.count == 1)
        #expect(optimized.nodes[0].opType == "Conv")
        let x = try Tensor(shape: [1, channels, 6, 6], values: randomValues(channels * 36, seed: 6))
        let fused = try Session(model: try Model(graph: graph)).run(["x": x])["y"]!

        // Reference: run each node on its own (no folding or fusion possible in one-node graphs).
        var values: [String: Tensor] = ["x": x]
        for node in nodes {
            let ops = try OperatorRegistry.make(node, opset: 17)
            let results = try Plan.evaluate(ops, node.inputs.map { values[$0] ?? initializers[$0] })
            values[node.outputs[0]] = results[0]
        }
        #expect(worstRelativeError(try fused.scalars(as: Float.self), try values["y"]!.scalars(as: Float.self)) < 1e-5)
    }

    @Test func shapePlumbingIsComputedWhilePlanning() throws {
        // y = Reshape(x, Concat(Unsqueeze(Gather(Shape(x), 0)), [-1])) with a dynamic batch.
        let nodes = [
            Node(name: "shape", opType: "Shape", inputs: ["x"], outputs: ["s"]),
            Node(name: "gather", opType: "Gather", inputs: ["s", "zero"], outputs: ["n"], attributes: ["axis": .int(0)]),
            Node(name: "unsqueeze", opType: "Unsqueeze", inputs: ["n", "axes"], outputs: ["n1"]),
            Node(name: "concat", opType: "Concat", inputs: ["n1", "minusOne"], outputs: ["target"], attributes: ["axis": .int(0)]),
            Node(name: "reshape", opType: "Reshape", inputs: ["x", "target"], outputs: ["y"]),
        ]
        let graph = Graph(
            nodes: nodes,
            initializers: ["zero": try Tensor(shape: [], values: [Int64(0)]), "axes": try Tensor(shape: [1], values: [Int64(0)]),
                           "minusOne": try Tensor(shape: [1], values: [Int64(-1)])],
            inputs: [TensorInfo(name: "x", dtype: .float32, shape: [.symbolic("N"), .fixed(2), .fixed(3)])],
            outputs: [TensorInfo(name: "y", dtype: .float32, shape: [])], opset: 13)
        let model = try Model(graph: graph)
        #expect(try model.kernels(batch: 5).isEmpty)  // everything folded; the reshape is a view
        let session = try Session(model: model)
        for batch in [1, 4] {
            let x = try Tensor(shape: [batch, 2, 3], values: (0..<(batch * 6)).map(Float.init))
            let y = try session.run(["x": x])["y"]!
            #expect(y.shape == [batch, 6])
            #expect(try y.scalars(as: Float.self) == (try x.scalars(as: Float.self)))
        }
    }
}
