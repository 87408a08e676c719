@_spi(KilnInternals) import KilnCore

/// Conv (1-D and 2-D, any kernel, stride, padding, dilation and groups), with the bias, a
/// residual input and an activation fused in by `GraphOptimizer`.
///
/// Kernels: depthwise convolutions run a direct kernel (each tap a vectorised row update);
/// 1×1 stride-1 convolutions are one OpenBLAS GEMM per image and group; the rest go through
/// im2col and an OpenBLAS GEMM.
struct ConvOp: Operator {
    let node: Node
    let activation: Activation
    /// Input index of a residual tensor added before the activation (fused Add), if any.
    let residualInput: Int?

    init(node: Node) throws {
        self.node = node
        let group = try node.int("group", default: 1)
        guard group >= 1 else { throw KilnError.format("\(node.label): group must be at least 1, got \(group)") }
        activation = try FusedActivation.read(node)
        residualInput = node.hasAttribute(FusedActivation.residualAttribute) ? 3 : nil
    }

    func plan(_ values: [PlannedValue?]) throws -> Step {
        let label = node.label
        let inputs = Inputs(values, label)
        let x = try inputs.float(0, "X"), w = try inputs.float(1, "W")
        guard x.shape.count == 4 || x.shape.count == 3 else {
            throw KilnError.unsupported("\(label): only 1-D and 2-D convolutions (rank 3 or 4 inputs) are supported, X has shape \(x.shape)")
        }
        guard w.shape.count == x.shape.count else {
            throw KilnError.shapeMismatch("\(label): W has shape \(w.shape), expected rank \(x.shape.count) like X \(x.shape)")
        }
        guard (x.shape + w.shape).allSatisfy({ $0 > 0 }) else {
            throw KilnError.unsupported("\(label): empty tensors (X \(x.shape), W \(w.shape)) are not supported")
        }
        let groups = try node.int("group", default: 1)
        let spatial = Array(x.shape[2...])
        let kernel = try node.ints("kernel_shape", default: Array(w.shape[2...]))
        guard kernel == Array(w.shape[2...]) else {
            throw KilnError.shapeMismatch("\(label): kernel_shape \(kernel) disagrees with W's shape \(w.shape)")
        }
        let (inChannels, outChannels) = (x.shape[1], w.shape[0])
        guard inChannels % groups == 0, outChannels % groups == 0, w.shape[1] * groups == inChannels else {
            throw KilnError.shapeMismatch("\(label): X has \(inChannels) channels and W has shape \(w.shape) with group \(groups): expected W[1] × group = \(inChannels)")
        }
        let window = try Window(input: spatial, kernel: kernel, node: node).as2D
        let spatial2D = spatial.count == 1 ? [1] + spatial : spatial
        let shape = ConvolutionShape(
            batch: x.shape[0], inChannels: inChannels, inHeight: spatial2D[0], inWidth: spatial2D[1],
            outChannels: outChannels, outHeight: window.output[0], outWidth: window.output[1],
            kernelHeight: window.kernel[0], kernelWidth: window.kernel[1],
            strideH: window.strides[0], strideW: window.strides[1], dilationH: window.dilations[0], dilationW: window.dilations[1],
            padTop: window.padsBegin[0], padLeft: window.padsBegin[1], groups: groups)
        let output = ValueType(dtype: .float32, shape: [x.shape[0], outChannels] + (spatial.count == 1 ? [window.output[1]] : window.output))
        if let b = inputs.optional(2) {
            guard b.type.dtype == .float32, b.type.shape == [outChannels] else {
                throw KilnError.shapeMismatch("\(label): bias B must be float32 of shape [\(outChannels)], got \(b.type.dtype) \(b.type.shape)")
            }
        }
        let hasBias = inputs.optional(2) != nil
        var residualWalk: BroadcastWalk?
        if let residualInput {
            let residual = try inputs.float(residualInput, "residual")
            guard try broadcastShape(output.shape, residual.shape, label) == output.shape else {
                throw KilnError.shapeMismatch("\(label): the fused residual of shape \(residual.shape) does not broadcast to the output \(output.shape)")
            }
            if residual.shape != output.shape { residualWalk = BroadcastWalk(output: output.shape, operands: [output.shape, residual.shape]) }
        }
        let epilogue = Epilogue(channels: outChannels, plane: shape.outPlane, hasBias: hasBias, residualInput: residualInput,
                                residualWalk: residualWalk, activation: activation)
        let kernelName: String
        let run: @Sendable ([Buffer?], [Buffer]) throws -> Void
        let weights = inputs.optional(1)?.constant
        if WinogradF43.applies(to: shape), let weights {
            let winograd = try WinogradF43(shape: shape, weights: weights)
            kernelName = "f32-conv3x3-winograd-f43" + (winograd.usesPackedGEMM ? "-gemm-simd16" : "-sgemm-openblas")
            run = { inputs, outputs in
                let y = outputs[0].floats
                try epilogue.fused(inputs, y) { finished in try winograd.run(input: inputs[0]!.floats, output: y, finished: finished) }
            }
        } else if DirectConvolution.applies(to: shape), let weights {
            let direct = try DirectConvolution(shape: shape, weights: weights)
            kernelName = "f32-conv\(shape.kernelHeight)x\(shape.kernelWidth)-direct-simd16"
            run = { inputs, outputs in
                direct.run(input: inputs[0]!.floats, output: outputs[0].floats)
                epilogue.apply(inputs, outputs[0].floats)
            }
        } else if shape.isDepthwise && shape.inChannelsPerGroup == 1 {
            let depthwise = try DepthwiseConvolution(shape: shape)
            kernelName = "f32-dwconv\(shape.kernelHeight)x\(shape.kernelWidth)-simd16"
            let rest = epilogue.withoutBias  // the kernel starts its sums at the bias
            run = { inputs, outputs in
                let y = outputs[0].floats
                rest.fused(inputs, y) { finished in
                    depthwise.run(input: inputs[0]!.floats, weights: inputs[1]!.floats, bias: hasBias ? inputs[2]!.floats : nil,
                                  output: y, finished: finished)
                }
            }
        } else if shape.isPointwise && shape.groups == 1, let weights {
            // Measured on 256→64 @56²: 0.94 ms against OpenBLAS's 1.04 (1 thread), 0.49 against 0.56 (2).
            let packed = try PackedMatrix(rowMajor: try weights.scalars(as: Float.self), rows: outChannels, columns: shape.inChannels)
            kernelName = "f32-conv1x1-gemm-simd16"
            run = { inputs, outputs in
                let (x, y) = (UncheckedSendable(inputs[0]!.floats), UncheckedSendable(outputs[0].floats))
                let (plane, blocks) = (shape.outPlane, (shape.outPlane + 31) / 32)
                for image in 0..<shape.batch {
                    // Columns of C (pixels) in blocks of 32, split over the threads.
                    Parallel.forEach(blocks, minimumChunk: max(1, 65536 / (32 * shape.inChannels * outChannels))) { range in
                        packed.multiply(x.value + image * shape.inChannels * plane, ldb: plane,
                                        columns: (range.lowerBound * 32)..<min(plane, range.upperBound * 32),
                                        into: y.value + image * outChannels * plane, ldc: plane)
                    }
                }
                epilogue.apply(inputs, y.value)
            }
        } else {
            let pointwise = shape.isPointwise
            kernelName = pointwise ? "f32-conv1x1-sgemm-openblas" : "f32-conv\(shape.kernelHeight)x\(shape.kernelWidth)-im2col-sgemm-openblas"
            let scratch = pointwise ? nil : try Tensor(zeros: [shape.patchSize * shape.outPlane])
            let columns = scratch.map { UncheckedSendable($0.unsafeBaseAddress.assumingMemoryBound(to: Float.self)) }
            run = { inputs, outputs in
                try withExtendedLifetime(scratch) {
                    let (x, w, y) = (inputs[0]!.floats, inputs[1]!.floats, outputs[0].floats)
                    let (m, k, n) = (shape.outChannelsPerGroup, shape.patchSize, shape.outPlane)
                    for image in 0..<shape.batch {
                        for group in 0..<shape.groups {
                            let source = x + (image * shape.inChannels + group * shape.inChannelsPerGroup) * shape.inPlane
                            let b: UnsafePointer<Float>
                            if let columns {
                                ConvolutionKernels.im2col(shape, input: source, columns: columns.value)
                                b = UnsafePointer(columns.value)
                            } else {
                                b = UnsafePointer(source)
                            }
                            try BLAS.sgemm(
                                m: m, n: n, k: k, a: w + group * m * k, lda: k, b: b, ldb: n,
                                c: y + (image * shape.outChannels + group * m) * n, ldc: n)
                        }
                    }
                    epilogue.apply(inputs, y)
                }
            }
        }
        return Step(outputs: [output], flops: shape.flops, kernel: kernelName + epilogue.suffix, run: run)
    }
}

/// What runs over a convolution's (or GEMM's) output after the multiply: bias per channel,
/// a residual tensor, an activation — one pass over the output.
struct Epilogue: Sendable {
    let channels: Int
    let plane: Int
    let hasBias: Bool
    let residualInput: Int?
    let residualWalk: BroadcastWalk?
    let activation: Activation

    /// This epilogue for a kernel that adds the bias itself.
    var withoutBias: Epilogue {
        Epilogue(channels: channels, plane: plane, hasBias: false, residualInput: residualInput,
                 residualWalk: residualWalk, activation: activation)
    }

    var suffix: String {
        (hasBias ? "+bias" : "") + (residualInput != nil ? "+add" : "") + (activation == .none ? "" : "+\(activation.name)")
    }

    /// Runs a kernel that reports each output plane it finishes, applying the epilogue to that
    /// plane at once (while it is in cache), or in one pass afterwards when the residual
    /// broadcasts (it then cannot be applied plane by plane).
    func fused(_ inputs: [Buffer?], _ y: UnsafeMutablePointer<Float>, _ kernel: (_ finished: (Int) -> Void) throws -> Void) rethrows {
        if !hasBias && residualInput == nil && activation == .none {
            try kernel { _ in }
        } else if residualWalk == nil {
            try kernel { plane in applyRows(plane..<(plane + 1), inputs, y) }
        } else {
            try kernel { _ in }
            apply(inputs, y)
        }
    }

    func apply(_ inputs: [Buffer?], _ y: UnsafeMutablePointer<Float>) {
        let total = inputs[0]!.type.shape[0] * channels
        if let residualInput, let residualWalk {  // broadcast residual: rare, done separately
            BinaryOp.compute(.add, residualWalk, y, inputs[residualInput]!.floats, y)
        }
        Parallel.forEach(total, minimumChunk: max(1, 16384 / max(plane, 1))) { rows in
            applyRows(rows, inputs, y, includeResidual: residualWalk == nil)
        }
    }

    /// The epilogue of output planes `rows` (image × channel), on the calling thread.
    func applyRows(_ rows: Range<Int>, _ inputs: [Buffer?], _ y: UnsafeMutablePointer<Float>, includeResidual: Bool = true) {
        let bias = hasBias ? inputs[2]!.floats : nil
        let denseResidual = includeResidual ? residualInput.map { inputs[$0]!.floats } : nil
        for row in rows {
            let out = y + row * plane
            if let bias {
                let value = bias[row % channels]
                if let denseResidual {
                    let add = denseResidual + row * plane
                    for i in 0..<plane { out[i] += value + add[i] }
                } else {
                    for i in 0..<plane { out[i] += value }
                }
            } else if let denseResidual {
                let add = denseResidual + row * plane
                for i in 0..<plane { out[i] += add[i] }
            }
            activation.apply(out, count: plane)
        }
    }
}

/// The attributes `GraphOptimizer` writes on a node it fused an activation or residual into.
enum FusedActivation {
    static let activationAttribute = "kiln_activation"
    static let parametersAttribute = "kiln_activation_parameters"
    static let residualAttribute = "kiln_residual"

    static func read(_ node: Node) throws -> Activation {
        guard let name = try? node.string(activationAttribute) else { return .none }
        let p = (try? node.floats(parametersAttribute)) ?? []
        switch (name, p.count) {
        case ("relu", _): return .relu
        case ("leaky-relu", 1): return .leakyRelu(alpha: p[0])
        case ("clip", 2): return .clip(min: p[0], max: p[1])
        case ("sigmoid", _): return .sigmoid
        case ("tanh", _): return .tanh
        case ("hard-sigmoid", 2): return .hardSigmoid(alpha: p[0], beta: p[1])
        case ("hard-swish", _): return .hardSwish
        default: throw KilnError(.internalError, "\(node.label): bad fused activation \(name) \(p)")
        }
    }

    static func write(_ activation: Activation, to node: inout Node) {
        node.attributes[activationAttribute] = .string(activation.name)
        switch activation {
        case .leakyRelu(let alpha): node.attributes[parametersAttribute] = .floats([alpha])
        case .clip(let low, let high): node.attributes[parametersAttribute] = .floats([low, high])
        case .hardSigmoid(let alpha, let beta): node.attributes[parametersAttribute] = .floats([alpha, beta])
        default: break
        }
    }
}
