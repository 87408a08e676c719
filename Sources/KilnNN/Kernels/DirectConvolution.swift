@_spi(KilnInternals) import KilnCore

/// Direct convolution for layers with few input channels (the RGB first layer of a CNN), any
/// kernel size, stride and dilation: `f32-conv-direct-simd16`.
///
/// im2col is wasteful there (a 7×7 kernel over 3 channels copies the image 49 times for a GEMM
/// whose inner dimension is only 147). Instead the zero-padded input is split into `stride`
/// column phases, so that the taps of 16 neighbouring outputs are one contiguous load; eight
/// output channels share each load, accumulated in eight `SIMD16<Float>` registers.
struct DirectConvolution: Sendable {
    static let channelBlock = 8

    let shape: ConvolutionShape
    /// Weights regrouped as [outChannels / 8][inChannels][kh][kw][8] (zero-padded channels).
    let packedWeights: Tensor
    let phases: Tensor
    let paddedHeight: Int, phaseWidth: Int
    /// Per tap (c, i, j): where its input starts in the phase buffers, relative to output (0, 0).
    let tapOffsets: [Int]

    static func applies(to s: ConvolutionShape) -> Bool {
        s.groups == 1 && s.inChannels <= 4 && s.outWidth >= 8
    }

    init(shape s: ConvolutionShape, weights: Tensor) throws {
        shape = s
        let block = DirectConvolution.channelBlock
        let blocks = (s.outChannels + block - 1) / block
        let taps = s.inChannels * s.kernelHeight * s.kernelWidth
        let w = try weights.scalars(as: Float.self)
        var packed = [Float](repeating: 0, count: blocks * taps * block)
        for m in 0..<s.outChannels {
            for tap in 0..<taps { packed[((m / block) * taps + tap) * block + m % block] = w[m * taps + tap] }
        }
        packedWeights = try Tensor(shape: [blocks, taps, block], values: packed)
        paddedHeight = (s.outHeight - 1) * s.strideH + (s.kernelHeight - 1) * s.dilationH + 1
        // Phase columns needed: outWidth + the largest tap shift, + 16 so full-vector loads stay inside.
        phaseWidth = s.outWidth + ((s.kernelWidth - 1) * s.dilationW) / s.strideW + 1 + 16
        phases = try Tensor(zeros: [s.inChannels, s.strideW, paddedHeight, phaseWidth])
        let (plane, width) = (paddedHeight * phaseWidth, phaseWidth)
        tapOffsets = (0..<taps).map { tap in
            let (c, i, j) = (tap / (s.kernelHeight * s.kernelWidth), tap / s.kernelWidth % s.kernelHeight, tap % s.kernelWidth)
            let shift = j * s.dilationW
            return (c * s.strideW + shift % s.strideW) * plane + i * s.dilationH * width + shift / s.strideW
        }
    }

    func run(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>) {
        let s = shape
        let phasePointer = UncheckedSendable(phases.unsafeBaseAddress.assumingMemoryBound(to: Float.self))
        let weights = UncheckedSendable(packedWeights.unsafeBaseAddress.assumingMemoryBound(to: Float.self))
        let block = DirectConvolution.channelBlock
        let blocks = (s.outChannels + block - 1) / block
        let taps = s.inChannels * s.kernelHeight * s.kernelWidth
        let phasePlane = paddedHeight * phaseWidth
        for image in 0..<s.batch {
            let source = UncheckedSendable(input + image * s.inChannels * s.inPlane)
            Parallel.forEach(s.inChannels) { channels in
                for c in channels {
                    ConvolutionKernels.splitPhases(s, source.value + c * s.inPlane, into: phasePointer.value + c * s.strideW * phasePlane,
                                                   paddedHeight: paddedHeight, phaseWidth: phaseWidth)
                }
            }
            let out = UncheckedSendable(output + image * s.outChannels * s.outPlane)
            tapOffsets.withUnsafeBufferPointer { offsets in
            Parallel.forEach(blocks * s.outHeight, minimumChunk: 8) { range in
                var lanes = [Float](repeating: 0, count: 16)
                for item in range {
                    let (b, oh) = (item / s.outHeight, item % s.outHeight)
                    let w = weights.value + b * taps * block
                    var ow = 0
                    while ow < s.outWidth {
                        var acc = (SIMD16<Float>(), SIMD16<Float>(), SIMD16<Float>(), SIMD16<Float>(),
                                   SIMD16<Float>(), SIMD16<Float>(), SIMD16<Float>(), SIMD16<Float>())
                        let origin = phasePointer.value + oh * s.strideH * phaseWidth + ow
                        for tap in 0..<taps {
                            let x = UnsafeRawPointer(origin + offsets[tap]).loadUnaligned(as: SIMD16<Float>.self)
                            let k = w + tap * block
                            acc.0.addProduct(x, SIMD16(repeating: k[0]))
                            acc.1.addProduct(x, SIMD16(repeating: k[1]))
                            acc.2.addProduct(x, SIMD16(repeating: k[2]))
                            acc.3.addProduct(x, SIMD16(repeating: k[3]))
                            acc.4.addProduct(x, SIMD16(repeating: k[4]))
                            acc.5.addProduct(x, SIMD16(repeating: k[5]))
                            acc.6.addProduct(x, SIMD16(repeating: k[6]))
                            acc.7.addProduct(x, SIMD16(repeating: k[7]))
                        }
                        let count = min(16, s.outWidth - ow)
                        @inline(__always) func store(_ m: Int, _ value: SIMD16<Float>) {
                            let channel = b * block + m
                            guard channel < s.outChannels else { return }
                            let target = out.value + channel * s.outPlane + oh * s.outWidth + ow
                            if count == 16 {
                                UnsafeMutableRawPointer(target).storeBytes(of: value, as: SIMD16<Float>.self)
                            } else {
                                for lane in 0..<count { lanes[lane] = value[lane] }
                                target.update(from: lanes, count: count)
                            }
                        }
                        store(0, acc.0); store(1, acc.1); store(2, acc.2); store(3, acc.3)
                        store(4, acc.4); store(5, acc.5); store(6, acc.6); store(7, acc.7)
                        ow += 16
                    }
                }
            }
            }
        }
    }
}
