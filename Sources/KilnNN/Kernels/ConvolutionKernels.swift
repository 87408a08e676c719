import KilnCore

/// 2-D convolution over NCHW float32, described once per planned shape.
struct ConvolutionShape: Sendable {
    var batch: Int, inChannels: Int, inHeight: Int, inWidth: Int
    var outChannels: Int, outHeight: Int, outWidth: Int
    var kernelHeight: Int, kernelWidth: Int
    var strideH: Int, strideW: Int, dilationH: Int, dilationW: Int
    var padTop: Int, padLeft: Int
    var groups: Int

    var inChannelsPerGroup: Int { inChannels / groups }
    var outChannelsPerGroup: Int { outChannels / groups }
    var inPlane: Int { inHeight * inWidth }
    var outPlane: Int { outHeight * outWidth }
    /// Rows of the im2col matrix of one group: input channels × kernel taps.
    var patchSize: Int { inChannelsPerGroup * kernelHeight * kernelWidth }
    var isPointwise: Bool {
        kernelHeight == 1 && kernelWidth == 1 && strideH == 1 && strideW == 1 && padTop == 0 && padLeft == 0
    }
    var isDepthwise: Bool { groups == inChannels && groups == outChannels && groups > 1 }
    var flops: Int { 2 * batch * outChannels * outPlane * patchSize }

    /// The valid output range [low, high) along one axis for kernel tap offset `tap`
    /// (input index = out × stride + tap − pad must lie in [0, size)).
    @inline(__always)
    static func validRange(tap: Int, pad: Int, stride: Int, size: Int, outSize: Int) -> Range<Int> {
        let shift = tap - pad
        let low = shift >= 0 ? 0 : (-shift + stride - 1) / stride
        let high = min(outSize, size - shift > 0 ? (size - shift - 1) / stride + 1 : 0)
        return low..<max(low, high)
    }
}

enum ConvolutionKernels {
    /// im2col of one image's group: `columns[(c·kh + i)·kw + j][oh·OW + ow]`, zeros in the padding.
    static func im2col(_ s: ConvolutionShape, input: UnsafePointer<Float>, columns: UnsafeMutablePointer<Float>) {
        let plane = s.outPlane
        for c in 0..<s.inChannelsPerGroup {
            let channel = input + c * s.inPlane
            for i in 0..<s.kernelHeight {
                for j in 0..<s.kernelWidth {
                    let row = columns + ((c * s.kernelHeight + i) * s.kernelWidth + j) * plane
                    let rows = ConvolutionShape.validRange(tap: i * s.dilationH, pad: s.padTop, stride: s.strideH, size: s.inHeight, outSize: s.outHeight)
                    let cols = ConvolutionShape.validRange(tap: j * s.dilationW, pad: s.padLeft, stride: s.strideW, size: s.inWidth, outSize: s.outWidth)
                    row.update(repeating: 0, count: plane)
                    for oh in rows {
                        let source = channel + (oh * s.strideH + i * s.dilationH - s.padTop) * s.inWidth + j * s.dilationW - s.padLeft
                        let target = row + oh * s.outWidth
                        if s.strideW == 1 {
                            (target + cols.lowerBound).update(from: source + cols.lowerBound, count: cols.count)
                        } else {
                            for ow in cols { target[ow] = source[ow * s.strideW] }
                        }
                    }
                }
            }
        }
    }

    /// One zero-padded input plane split by column phase, for the direct kernels:
    /// phases[q][y][u] = padded[y][stride·u + q], where padded[y][x] = plane[y − padTop][x − padLeft]
    /// (zero outside). `paddedHeight` rows, `phaseWidth` columns per phase. With `bordersAreZero`
    /// (a zeroed buffer that only ever receives planes of this shape) only the interior is copied.
    static func splitPhases(
        _ s: ConvolutionShape, _ plane: UnsafePointer<Float>, into phases: UnsafeMutablePointer<Float>,
        paddedHeight: Int, phaseWidth: Int, bordersAreZero: Bool = false
    ) {
        for q in 0..<s.strideW {
            let target = phases + q * paddedHeight * phaseWidth
            // Columns u whose source x = stride·u + q − padLeft lies inside the row.
            let first = max(0, (s.padLeft - q + s.strideW - 1) / s.strideW)
            let end = min(phaseWidth, max(first, (s.inWidth + s.padLeft - q + s.strideW - 1) / s.strideW))
            for y in 0..<paddedHeight {
                let row = target + y * phaseWidth
                let sourceY = y - s.padTop
                guard sourceY >= 0 && sourceY < s.inHeight else {
                    if !bordersAreZero { row.update(repeating: 0, count: phaseWidth) }
                    continue
                }
                let source = plane + sourceY * s.inWidth + q - s.padLeft
                if !bordersAreZero { row.update(repeating: 0, count: first) }
                if s.strideW == 1 {
                    (row + first).update(from: source + first, count: end - first)
                } else {
                    for u in first..<end { row[u] = source[s.strideW * u] }
                }
                if !bordersAreZero { (row + end).update(repeating: 0, count: phaseWidth - end) }
            }
        }
    }

    /// Scalar reference: direct 7-loop convolution, the oracle of the tests.
    static func reference(
        _ s: ConvolutionShape, input: UnsafePointer<Float>, weights: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
        output: UnsafeMutablePointer<Float>
    ) {
        for n in 0..<s.batch {
            for m in 0..<s.outChannels {
                let group = m / s.outChannelsPerGroup
                for oh in 0..<s.outHeight {
                    for ow in 0..<s.outWidth {
                        var sum = Double(bias?[m] ?? 0)
                        for c in 0..<s.inChannelsPerGroup {
                            let channel = group * s.inChannelsPerGroup + c
                            for i in 0..<s.kernelHeight {
                                for j in 0..<s.kernelWidth {
                                    let y = oh * s.strideH + i * s.dilationH - s.padTop
                                    let x = ow * s.strideW + j * s.dilationW - s.padLeft
                                    guard y >= 0, y < s.inHeight, x >= 0, x < s.inWidth else { continue }
                                    let value = input[((n * s.inChannels + channel) * s.inHeight + y) * s.inWidth + x]
                                    let weight = weights[((m * s.inChannelsPerGroup + c) * s.kernelHeight + i) * s.kernelWidth + j]
                                    sum += Double(value) * Double(weight)
                                }
                            }
                        }
                        output[((n * s.outChannels + m) * s.outHeight + oh) * s.outWidth + ow] = Float(sum)
                    }
                }
            }
        }
    }
}
