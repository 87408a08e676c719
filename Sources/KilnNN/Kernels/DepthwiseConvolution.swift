@_spi(KilnInternals) import KilnCore

/// Depthwise convolution (one filter per channel), any kernel, stride and dilation:
/// `f32-dwconv-simd16`. Each channel plane is copied zero-padded and split into `stride` column
/// phases (as in `DirectConvolution`), so every tap of 16 neighbouring outputs is one
/// contiguous load with no bounds checks; the taps accumulate in a `SIMD16<Float>` register and
/// each output row is written once.
struct DepthwiseConvolution: Sendable {
    let shape: ConvolutionShape
    let paddedHeight: Int, phaseWidth: Int
    /// One phase buffer per thread.
    let scratch: Tensor
    let slots: Int
    /// Per tap (i, j): where its input starts in the phase buffer, relative to output row 0, column 0.
    let tapOffsets: [Int]

    init(shape s: ConvolutionShape) throws {
        shape = s
        paddedHeight = (s.outHeight - 1) * s.strideH + (s.kernelHeight - 1) * s.dilationH + 1
        phaseWidth = s.outWidth + ((s.kernelWidth - 1) * s.dilationW) / s.strideW + 1 + 16
        slots = max(1, Threads.count)
        let (plane, width) = (paddedHeight * phaseWidth, phaseWidth)
        tapOffsets = (0..<(s.kernelHeight * s.kernelWidth)).map { tap in
            let (i, shift) = (tap / s.kernelWidth, (tap % s.kernelWidth) * s.dilationW)
            return (shift % s.strideW) * plane + i * s.dilationH * width + shift / s.strideW
        }
        scratch = try Tensor(zeros: [slots, s.strideW * paddedHeight * phaseWidth])
    }

    /// Convolves every (image, channel) plane; `finished(plane)` runs right after each plane is
    /// written, on the same thread (the fused epilogue, while the plane is in cache).
    func run(
        input: UnsafePointer<Float>, weights: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>,
        finished: (Int) -> Void
    ) {
        let s = shape
        let base = UncheckedSendable(scratch.unsafeBaseAddress.assumingMemoryBound(to: Float.self))
        let (source, filters, target) = (UncheckedSendable(input), UncheckedSendable(weights), UncheckedSendable(output))
        let phasePlane = paddedHeight * phaseWidth, taps = s.kernelHeight * s.kernelWidth
        tapOffsets.withUnsafeBufferPointer { offsets in
        Parallel.forEachChunk(s.batch * s.outChannels, threads: slots, minimumChunk: 2) { chunk, planes in
            let phases = base.value + chunk * s.strideW * phasePlane
            var tail = [Float](repeating: 0, count: 16)
            for plane in planes {
                ConvolutionKernels.splitPhases(s, source.value + plane * s.inPlane, into: phases,
                                               paddedHeight: paddedHeight, phaseWidth: phaseWidth)
                let w = filters.value + (plane % s.outChannels) * taps
                let out = target.value + plane * s.outPlane
                for oh in 0..<s.outHeight {
                    var ow = 0
                    // Four independent accumulators (64 columns) hide the FMA latency of the tap chain.
                    while ow + 64 <= s.outWidth {
                        var acc = (SIMD16<Float>(), SIMD16<Float>(), SIMD16<Float>(), SIMD16<Float>())
                        let origin = UnsafeRawPointer(phases + oh * s.strideH * phaseWidth + ow)
                        for tap in 0..<taps {
                            let p = origin + offsets[tap] * 4
                            let weight = SIMD16<Float>(repeating: w[tap])
                            acc.0.addProduct(p.loadUnaligned(as: SIMD16<Float>.self), weight)
                            acc.1.addProduct(p.loadUnaligned(fromByteOffset: 64, as: SIMD16<Float>.self), weight)
                            acc.2.addProduct(p.loadUnaligned(fromByteOffset: 128, as: SIMD16<Float>.self), weight)
                            acc.3.addProduct(p.loadUnaligned(fromByteOffset: 192, as: SIMD16<Float>.self), weight)
                        }
                        let destination = UnsafeMutableRawPointer(out + oh * s.outWidth + ow)
                        destination.storeBytes(of: acc.0, as: SIMD16<Float>.self)
                        destination.storeBytes(of: acc.1, toByteOffset: 64, as: SIMD16<Float>.self)
                        destination.storeBytes(of: acc.2, toByteOffset: 128, as: SIMD16<Float>.self)
                        destination.storeBytes(of: acc.3, toByteOffset: 192, as: SIMD16<Float>.self)
                        ow += 64
                    }
                    while ow + 32 <= s.outWidth {
                        var acc = (SIMD16<Float>(), SIMD16<Float>())
                        let origin = UnsafeRawPointer(phases + oh * s.strideH * phaseWidth + ow)
                        for tap in 0..<taps {
                            let p = origin + offsets[tap] * 4
                            let weight = SIMD16<Float>(repeating: w[tap])
                            acc.0.addProduct(p.loadUnaligned(as: SIMD16<Float>.self), weight)
                            acc.1.addProduct(p.loadUnaligned(fromByteOffset: 64, as: SIMD16<Float>.self), weight)
                        }
                        let destination = UnsafeMutableRawPointer(out + oh * s.outWidth + ow)
                        destination.storeBytes(of: acc.0, as: SIMD16<Float>.self)
                        destination.storeBytes(of: acc.1, toByteOffset: 64, as: SIMD16<Float>.self)
                        ow += 32
                    }
                    while ow < s.outWidth {
                        var sum = SIMD16<Float>()
                        let origin = phases + oh * s.strideH * phaseWidth + ow
                        for tap in 0..<taps {
                            sum.addProduct(UnsafeRawPointer(origin + offsets[tap]).loadUnaligned(as: SIMD16<Float>.self),
                                           SIMD16(repeating: w[tap]))
                        }
                        let count = min(16, s.outWidth - ow)
                        let destination = out + oh * s.outWidth + ow
                        if count == 16 {
                            UnsafeMutableRawPointer(destination).storeBytes(of: sum, as: SIMD16<Float>.self)
                        } else {
                            for lane in 0..<count { tail[lane] = sum[lane] }
                            destination.update(from: tail, count: count)
                        }
                        ow += 16
                    }
                }
                finished(plane)
            }
        }
        }
    }
}
