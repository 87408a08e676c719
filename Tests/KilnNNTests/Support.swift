import KilnCore

@testable import KilnNN

/// Random float values from a logged seed.
func randomValues(_ count: Int, seed: UInt64, scale: Float = 1) -> [Float] {
    var stream = Philox(seed: seed).stream(0)
    return (0..<count).map { _ in Float(stream.nextNormal()) * scale }
}

/// A one-Conv model built directly as a Graph (no ONNX file).
func convModel(
    inChannels: Int, outChannels: Int, kernel: Int, stride: Int = 1, pad: Int = 0, dilation: Int = 1, groups: Int = 1,
    height: Int = 8, width: Int = 8, seed: UInt64
) throws -> (Model, weights: [Float], bias: [Float]) {
    let weights = randomValues(outChannels * inChannels / groups * kernel * kernel, seed: seed, scale: 0.3)
    let bias = randomValues(outChannels, seed: seed + 1)
    let node = Node(name: "conv", opType: "Conv", inputs: ["x", "W", "B"], outputs: ["y"], attributes: [
        "kernel_shape": .ints([kernel, kernel]), "strides": .ints([stride, stride]), "pads": .ints([pad, pad, pad, pad]),
        "dilations": .ints([dilation, dilation]), "group": .int(groups),
    ])
    let graph = Graph(
        nodes: [node],
        initializers: ["W": try Tensor(shape: [outChannels, inChannels / groups, kernel, kernel], values: weights),
                       "B": try Tensor(shape: [outChannels], values: bias)],
        inputs: [TensorInfo(name: "x", dtype: .float32, shape: [.symbolic("N"), .fixed(inChannels), .fixed(height), .fixed(width)])],
        outputs: [TensorInfo(name: "y", dtype: .float32, shape: [])], opset: 17)
    return (try Model(graph: graph), weights, bias)
}

/// The largest |a − b| / (1 + |b|).
func worstRelativeError(_ a: [Float], _ b: [Float]) -> Float {
    zip(a, b).reduce(0) { max($0, abs($1.0 - $1.1) / (1 + abs($1.1))) }
}
