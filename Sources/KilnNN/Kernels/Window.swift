import KilnCore

/// The sliding-window arithmetic Conv and the pools share: output sizes and padding per
/// spatial axis, from ONNX's `pads`, `auto_pad`, `strides`, `dilations` and `ceil_mode`.
struct Window: Sendable, Equatable {
    var kernel: [Int]
    var strides: [Int]
    var dilations: [Int]
    var padsBegin: [Int]
    var padsEnd: [Int]
    var output: [Int]

    init(input: [Int], kernel: [Int], node: Node, ceilMode: Bool = false) throws {
        let rank = input.count
        self.kernel = kernel
        strides = try node.ints("strides", default: [Int](repeating: 1, count: rank))
        dilations = try node.ints("dilations", default: [Int](repeating: 1, count: rank))
        let pads = try node.ints("pads", default: [Int](repeating: 0, count: 2 * rank))
        let autoPad = try node.string("auto_pad", default: "NOTSET")
        guard kernel.count == rank, strides.count == rank, dilations.count == rank, pads.count == 2 * rank else {
            throw KilnError.format("\(node.label): kernel_shape, strides, dilations and pads must describe \(rank) spatial axes")
        }
        guard (kernel + strides + dilations).allSatisfy({ $0 > 0 }), pads.allSatisfy({ $0 >= 0 }) else {
            throw KilnError.format("\(node.label): kernel, strides and dilations must be positive and pads non-negative")
        }
        padsBegin = Array(pads[0..<rank])
        padsEnd = Array(pads[rank...])
        output = []
        for axis in 0..<rank {
            let extent = (kernel[axis] - 1) * dilations[axis] + 1
            switch autoPad {
            case "NOTSET":
                let span = input[axis] + padsBegin[axis] + padsEnd[axis] - extent
                guard span >= 0 else {
                    throw KilnError.shapeMismatch("\(node.label): the window (\(extent)) is larger than the padded input (\(input[axis] + padsBegin[axis] + padsEnd[axis])) on spatial axis \(axis)")
                }
                var size = (ceilMode ? (span + strides[axis] - 1) / strides[axis] : span / strides[axis]) + 1
                // A window may not start in the end padding (ONNX and PyTorch agree).
                if ceilMode && (size - 1) * strides[axis] >= input[axis] + padsBegin[axis] { size -= 1 }
                output.append(size)
            case "SAME_UPPER", "SAME_LOWER":
                let size = (input[axis] + strides[axis] - 1) / strides[axis]
                let total = max(0, (size - 1) * strides[axis] + extent - input[axis])
                let small = total / 2
                padsBegin[axis] = autoPad == "SAME_UPPER" ? small : total - small
                padsEnd[axis] = total - padsBegin[axis]
                output.append(size)
            case "VALID":
                guard input[axis] >= extent else {
                    throw KilnError.shapeMismatch("\(node.label): the window (\(extent)) is larger than the input (\(input[axis])) on spatial axis \(axis)")
                }
                padsBegin[axis] = 0
                padsEnd[axis] = 0
                output.append((input[axis] - extent) / strides[axis] + 1)
            default:
                throw KilnError.format("\(node.label): unknown auto_pad '\(autoPad)'")
            }
        }
    }

    /// Lifts a 1-D window to 2-D (height 1), so kernels handle one case.
    var as2D: Window {
        guard kernel.count == 1 else { return self }
        var copy = self
        copy.kernel = [1] + kernel
        copy.strides = [1] + strides
        copy.dilations = [1] + dilations
        copy.padsBegin = [0] + padsBegin
        copy.padsEnd = [0] + padsEnd
        copy.output = [1] + output
        return copy
    }
}
