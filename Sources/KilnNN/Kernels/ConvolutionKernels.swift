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

    /// Depthwise convolution of one channel plane, stride 1: each output row is computed once,
    /// sixteen columns at a time with every tap accumulated in a `SIMD16<Float>` register; the
    /// few border columns whose taps leave the image take a checked scalar path.
    static func depthwisePlaneStride1(
        _ s: ConvolutionShape, input: UnsafePointer<Float>, weights: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>
    ) {
        let (kh, kw, dh, dw) = (s.kernelHeight, s.kernelWidth, s.dilationH, s.dilationW)
        // Columns whose every tap lies inside the row: padLeft ≤ ow and ow + (kw−1)·dw − padLeft < inWidth.
        let interiorLow = min(s.padLeft, s.outWidth)
        let interiorHigh = max(interiorLow, min(s.outWidth, s.inWidth - (kw - 1) * dw + s.padLeft))
        for oh in 0..<s.outHeight {
            let out = output + oh * s.outWidth
            @inline(__always) func scalar(_ ow: Int) {
                var sum: Float = 0
                for i in 0..<kh {
                    let y = oh + i * dh - s.padTop
                    guard y >= 0 && y < s.inHeight else { continue }
                    for j in 0..<kw {
                        let x = ow + j * dw - s.padLeft
                        if x >= 0 && x < s.inWidth { sum += weights[i * kw + j] * input[y * s.inWidth + x] }
                    }
                }
                out[ow] = sum
            }
            for ow in 0..<interiorLow { scalar(ow) }
            var ow = interiorLow
            while ow + 16 <= interiorHigh {
                var sum = SIMD16<Float>()
                for i in 0..<kh {
                    let y = oh + i * dh - s.padTop
                    guard y >= 0 && y < s.inHeight else { continue }
                    let row = UnsafeRawPointer(input + y * s.inWidth + ow - s.padLeft)
                    for j in 0..<kw {
                        let x = row.loadUnaligned(fromByteOffset: j * dw * 4, as: SIMD16<Float>.self)
                        sum.addProduct(x, SIMD16(repeating: weights[i * kw + j]))
                    }
                }
                UnsafeMutableRawPointer(out + ow).storeBytes(of: sum, as: SIMD16<Float>.self)
                ow += 16
            }
            while ow < s.outWidth { scalar(ow); ow += 1 }
        }
    }

    /// Depthwise convolution of one channel plane (accumulates into `output`, which starts at 0).
    /// Each kernel tap adds a scaled, shifted copy of the input rows: unit-stride taps vectorise.
    static func depthwisePlane(
        _ s: ConvolutionShape, input: UnsafePointer<Float>, weights: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>
    ) {
        output.update(repeating: 0, count: s.outPlane)
        for i in 0..<s.kernelHeight {
            let rows = ConvolutionShape.validRange(tap: i * s.dilationH, pad: s.padTop, stride: s.strideH, size: s.inHeight, outSize: s.outHeight)
            for j in 0..<s.kernelWidth {
                let w = weights[i * s.kernelWidth + j]
                let cols = ConvolutionShape.validRange(tap: j * s.dilationW, pad: s.padLeft, stride: s.strideW, size: s.inWidth, outSize: s.outWidth)
                guard !cols.isEmpty else { continue }
                for oh in rows {
                    let source = input + (oh * s.strideH + i * s.dilationH - s.padTop) * s.inWidth + j * s.dilationW - s.padLeft
                    let target = output + oh * s.outWidth
                    if s.strideW == 1 {
                        for ow in cols { target[ow] += w * source[ow] }
                    } else {
                        for ow in cols { target[ow] += w * source[ow * s.strideW] }
                    }
                }
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
