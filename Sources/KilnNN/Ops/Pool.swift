import KilnCore

/// MaxPool and AveragePool (1-D and 2-D, pads, strides, dilations, ceil_mode, count_include_pad).
struct PoolOp: Operator {
    enum Kind: Sendable { case max, average }
    let kind: Kind
    let node: Node

    init(kind: Kind, node: Node) throws {
        self.kind = kind
        self.node = node
        _ = try node.ints("kernel_shape")
        if node.outputs.count > 1 && !node.outputs[1].isEmpty {
            throw KilnError.unsupported("\(node.label): the Indices output of MaxPool is not supported")
        }
    }

    func plan(_ values: [PlannedValue?]) throws -> Step {
        let label = node.label
        let x = try Inputs(values, label).float(0, "X")
        guard x.shape.count == 4 || x.shape.count == 3 else {
            throw KilnError.unsupported("\(label): only 1-D and 2-D pooling is supported, X has shape \(x.shape)")
        }
        let spatial = Array(x.shape[2...])
        let window = try Window(input: spatial, kernel: try node.ints("kernel_shape"), node: node,
                                ceilMode: try node.int("ceil_mode", default: 0) != 0).as2D
        let includePad = try node.int("count_include_pad", default: 0) != 0
        let (inH, inW) = spatial.count == 1 ? (1, spatial[0]) : (spatial[0], spatial[1])
        let (outH, outW) = (window.output[0], window.output[1])
        let planes = x.shape[0] * x.shape[1]
        let output = ValueType(dtype: .float32, shape: Array(x.shape[0..<2]) + (spatial.count == 1 ? [outW] : [outH, outW]))
        let kind = self.kind
        // Every window inside the input (no padding, and ceil_mode left no partial window).
        let unpadded = window.padsBegin == [0, 0] && window.dilations == [1, 1]
            && (outH - 1) * window.strides[0] + window.kernel[0] <= inH && (outW - 1) * window.strides[1] + window.kernel[1] <= inW
        let fastMax = kind == .max && unpadded
        return Step(outputs: [output], flops: output.count * window.kernel[0] * window.kernel[1],
                    kernel: kind == .max ? (fastMax ? "f32-maxpool-direct-unpadded" : "f32-maxpool-direct") : "f32-avgpool-direct") { inputs, outputs in
            let (x, y) = (inputs[0]!.floats, outputs[0].floats)
            Parallel.forEach(planes, minimumChunk: 8) { range in
                for plane in range {
                    let source = x + plane * inH * inW, target = y + plane * outH * outW
                    if fastMax {
                        PoolKernels.maxUnpadded(source, inW, target, outH, outW, window)
                    } else {
                        PoolKernels.general(kind, includePad, source, inH, inW, target, outH, outW, window)
                    }
                }
            }
        }
    }
}

enum PoolKernels {
    /// Max pooling whose windows all lie inside the input: row maxima first, no bounds checks.
    /// The 2×2 stride-2 case (most CNNs) pairs neighbours directly.
    static func maxUnpadded(
        _ source: UnsafeMutablePointer<Float>, _ inW: Int, _ target: UnsafeMutablePointer<Float>,
        _ outH: Int, _ outW: Int, _ window: Window
    ) {
        let (kh, kw, sh, sw) = (window.kernel[0], window.kernel[1], window.strides[0], window.strides[1])
        for oh in 0..<outH {
            let out = target + oh * outW
            let top = source + oh * sh * inW
            if kh == 2 && kw == 2 && sw == 2 {
                let below = top + inW
                for ow in 0..<outW {
                    let a = maxLikeX86(maxLikeX86(-.infinity, top[2 * ow]), top[2 * ow + 1])
                    out[ow] = maxLikeX86(maxLikeX86(a, below[2 * ow]), below[2 * ow + 1])
                }
                continue
            }
            for ow in 0..<outW { out[ow] = -.infinity }
            for i in 0..<kh {
                let row = top + i * inW
                for j in 0..<kw {
                    for ow in 0..<outW { out[ow] = maxLikeX86(out[ow], row[ow * sw + j]) }
                }
            }
        }
    }

    /// Any window: padding, dilation, ceil mode, count_include_pad.
    static func general(
        _ kind: PoolOp.Kind, _ includePad: Bool, _ source: UnsafeMutablePointer<Float>, _ inH: Int, _ inW: Int,
        _ target: UnsafeMutablePointer<Float>, _ outH: Int, _ outW: Int, _ window: Window
    ) {
        for oh in 0..<outH {
            let top = oh * window.strides[0] - window.padsBegin[0]
            for ow in 0..<outW {
                let left = ow * window.strides[1] - window.padsBegin[1]
                var best = -Float.infinity, sum: Float = 0, count = 0, padded = 0
                for i in 0..<window.kernel[0] {
                    let y = top + i * window.dilations[0]
                    for j in 0..<window.kernel[1] {
                        let x = left + j * window.dilations[1]
                        guard y >= 0, y < inH, x >= 0, x < inW else {
                            // Taps inside the declared padding count for count_include_pad.
                            if y >= -window.padsBegin[0], y < inH + window.padsEnd[0],
                               x >= -window.padsBegin[1], x < inW + window.padsEnd[1] { padded += 1 }
                            continue
                        }
                        let value = source[y * inW + x]
                        best = maxLikeX86(best, value)
                        sum += value
                        count += 1
                    }
                }
                switch kind {
                case .max: target[oh * outW + ow] = best
                case .average: target[oh * outW + ow] = sum / Float(max(1, includePad ? count + padded : count))
                }
            }
        }
    }
}

/// GlobalAveragePool and GlobalMaxPool: one value per (image, channel).
struct GlobalPoolOp: Operator {
    let isMax: Bool
    let label: String

    func plan(_ values: [PlannedValue?]) throws -> Step {
        let x = try Inputs(values, label).float(0, "X")
        guard x.shape.count >= 3 else { throw KilnError.shapeMismatch("\(label): X must have rank 3 or more, got \(x.shape)") }
        let planes = x.shape[0] * x.shape[1], size = x.shape[2...].reduce(1, *)
        let output = ValueType(dtype: .float32, shape: Array(x.shape[0..<2]) + [Int](repeating: 1, count: x.shape.count - 2))
        let isMax = self.isMax
        return Step(outputs: [output], flops: x.count, kernel: isMax ? "f32-global-maxpool" : "f32-global-avgpool") { inputs, outputs in
            let (x, y) = (inputs[0]!.floats, outputs[0].floats)
            for plane in 0..<planes {
                let source = x + plane * size
                if isMax {
                    var best = -Float.infinity
                    for i in 0..<size { best = maxLikeX86(best, source[i]) }
                    y[plane] = best
                } else {
                    var sum: Float = 0
                    for i in 0..<size { sum += source[i] }
                    y[plane] = sum / Float(size)
                }
            }
        }
    }
}

/// `maxps` semantics, as onnxruntime's MLAS pools compute: the running maximum is kept only
/// when it compares greater, so a NaN is taken when it arrives and dropped when a number follows.
/// Matching it keeps NaN outputs identical to onnxruntime's.
@inline(__always)
func maxLikeX86(_ running: Float, _ value: Float) -> Float { running > value ? running : value }
