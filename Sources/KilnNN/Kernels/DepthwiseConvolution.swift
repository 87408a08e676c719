@_spi(KilnInternals) import KilnCore

/// Depthwise convolution (one filter per channel), any kernel, stride and dilation:
/// `f32-dwconv-simd16`. Each channel plane is copied into a zero-bordered buffer split into
/// `stride` column phases (as in `DirectConvolution`), so every tap of 16 neighbouring outputs
/// is one contiguous load with no bounds checks. Outputs are computed in blocks of four rows ×
/// 64, 32 or 16 columns: up to 16 independent `SIMD16<Float>` accumulators, enough to keep
/// both FMA pipes busy through each block's chain of taps.
struct DepthwiseConvolution: Sendable {
    let shape: ConvolutionShape
    let paddedHeight: Int, phaseWidth: Int
    /// One phase buffer per thread; its borders are zero from the start and never written.
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

    /// Convolves every (image, channel) plane, the accumulators starting at the channel's bias;
    /// `finished(plane)` runs right after each plane is written, on the same thread (the fused
    /// epilogue, while the plane is in cache).
    func run(
        input: UnsafePointer<Float>, weights: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
        output: UnsafeMutablePointer<Float>, finished: (Int) -> Void
    ) {
        let s = shape
        let base = UncheckedSendable(scratch.unsafeBaseAddress.assumingMemoryBound(to: Float.self))
        let (source, filters, target) = (UncheckedSendable(input), UncheckedSendable(weights), UncheckedSendable(output))
        let biases = UncheckedSendable(bias)
        let phasePlane = paddedHeight * phaseWidth, taps = s.kernelHeight * s.kernelWidth
        let (phaseWidth, paddedHeight) = (phaseWidth, self.paddedHeight)
        let threeByThreeUnitStride = s.kernelHeight == 3 && s.kernelWidth == 3 && s.strideH == 1 && s.strideW == 1
            && s.dilationH == 1 && s.dilationW == 1
        tapOffsets.withUnsafeBufferPointer { offsets in
        Parallel.forEachChunk(s.batch * s.outChannels, threads: slots, minimumChunk: 2) { chunk, planes in
            let phases = base.value + chunk * s.strideW * phasePlane
            let broadcast = UnsafeMutablePointer<SIMD16<Float>>.allocate(capacity: taps)
            defer { broadcast.deallocate() }
            for plane in planes {
                ConvolutionKernels.splitPhases(s, source.value + plane * s.inPlane, into: phases,
                                               paddedHeight: paddedHeight, phaseWidth: phaseWidth, bordersAreZero: true)
                let rows = Rows(phases: UnsafeRawPointer(phases), inputRowBytes: s.strideH * phaseWidth * 4,
                                offsets: offsets, weights: filters.value + (plane % s.outChannels) * taps,
                                bias: SIMD16(repeating: biases.value?[plane % s.outChannels] ?? 0),
                                output: UnsafeMutableRawPointer(target.value + plane * s.outPlane), outputRowBytes: s.outWidth * 4)
                for tap in 0..<taps { broadcast[tap] = SIMD16(repeating: rows.weights[tap]) }
                var oh = 0
                while oh + 4 <= s.outHeight {
                    if threeByThreeUnitStride {
                        rows.convolve3x3(from: oh, width: s.outWidth, broadcast)
                    } else {
                        rows.convolve(from: oh, count: 4, width: s.outWidth)
                    }
                    oh += 4
                }
                if oh < s.outHeight { rows.convolve(from: oh, count: s.outHeight - oh, width: s.outWidth) }
                finished(plane)
            }
        }
        }
    }
}

/// The output rows of one plane, and where their taps read.
private struct Rows {
    let phases: UnsafeRawPointer
    let inputRowBytes: Int
    let offsets: UnsafeBufferPointer<Int>
    let weights: UnsafePointer<Float>
    /// Where every accumulator starts.
    let bias: SIMD16<Float>
    let output: UnsafeMutableRawPointer
    let outputRowBytes: Int

    /// Output rows `first ..< first + count` (four at a time, or one by one), all columns.
    @inline(__always)
    func convolve(from first: Int, count: Int, width: Int) {
        if count == 4 {
            var column = 0
            while column + 64 <= width { block(Lanes64.self, row: first, column: column); column += 64 }
            if column + 32 <= width { block(Lanes32.self, row: first, column: column); column += 32 }
            if column + 16 <= width { block(Lanes16.self, row: first, column: column); column += 16 }
            if column < width { for row in first..<(first + 4) { tail(row: row, column: column, count: width - column) } }
            return
        }
        for row in first..<(first + count) {
            var column = 0
            while column + 64 <= width { line(Lanes64.self, row: row, column: column); column += 64 }
            if column + 32 <= width { line(Lanes32.self, row: row, column: column); column += 32 }
            if column + 16 <= width { line(Lanes16.self, row: row, column: column); column += 16 }
            if column < width { tail(row: row, column: column, count: width - column) }
        }
    }

    /// Output rows `first ..< first + 4` of a 3×3, stride-1, undilated kernel: each of the six
    /// input rows they read is loaded once per column shift and feeds every output row it
    /// touches (18 loads per 36 FMAs, instead of one load per FMA).
    /// `w`: the nine weights, each broadcast to 16 lanes.
    @inline(__always)
    func convolve3x3(from first: Int, width: Int, _ w: UnsafePointer<SIMD16<Float>>) {
        var column = 0
        while column + 64 <= width { block3x3(Lanes64.self, w, row: first, column: column); column += 64 }
        if column + 32 <= width { block3x3(Lanes32.self, w, row: first, column: column); column += 32 }
        if column + 16 <= width { block3x3(Lanes16.self, w, row: first, column: column); column += 16 }
        if column < width { for row in first..<(first + 4) { tail(row: row, column: column, count: width - column) } }
    }

    @inline(__always)
    private func block3x3<L: LaneGroup>(_: L.Type, _ w: UnsafePointer<SIMD16<Float>>, row: Int, column: Int) {
        var (a, b, c, d) = (L(bias), L(bias), L(bias), L(bias))
        let origin = phases + row * inputRowBytes + column * 4
        for k in 0..<6 {
            for j in 0..<3 {
                let x = L(loading: origin + k * inputRowBytes + j * 4)
                if k <= 2 { a.add(x, w[k * 3 + j]) }
                if k >= 1 && k <= 3 { b.add(x, w[(k - 1) * 3 + j]) }
                if k >= 2 && k <= 4 { c.add(x, w[(k - 2) * 3 + j]) }
                if k >= 3 { d.add(x, w[(k - 3) * 3 + j]) }
            }
        }
        store((a, b, c, d), row: row, column: column)
    }

    /// Four rows × `L.columns` outputs: 4 × L.columns / 16 independent accumulation chains.
    @inline(__always)
    private func block<L: LaneGroup>(_: L.Type, row: Int, column: Int) {
        var (a, b, c, d) = (L(bias), L(bias), L(bias), L(bias))
        let origin = phases + row * inputRowBytes + column * 4
        for tap in offsets.indices {
            let weight = SIMD16<Float>(repeating: weights[tap])
            let p = origin + offsets[tap] * 4
            a.accumulate(p, weight)
            b.accumulate(p + inputRowBytes, weight)
            c.accumulate(p + 2 * inputRowBytes, weight)
            d.accumulate(p + 3 * inputRowBytes, weight)
        }
        store((a, b, c, d), row: row, column: column)
    }

    /// Four rows of results, from output row `row`, column `column`.
    @inline(__always)
    private func store<L: LaneGroup>(_ rows: (L, L, L, L), row: Int, column: Int) {
        let out = output + row * outputRowBytes + column * 4
        rows.0.store(out)
        rows.1.store(out + outputRowBytes)
        rows.2.store(out + 2 * outputRowBytes)
        rows.3.store(out + 3 * outputRowBytes)
    }

    @inline(__always)
    private func line<L: LaneGroup>(_: L.Type, row: Int, column: Int) {
        var a = L(bias)
        let origin = phases + row * inputRowBytes + column * 4
        for tap in offsets.indices {
            a.accumulate(origin + offsets[tap] * 4, SIMD16<Float>(repeating: weights[tap]))
        }
        a.store(output + row * outputRowBytes + column * 4)
    }

    /// The last `count` (< 16) columns of a row: the buffer's slack makes the 16-wide loads safe.
    private func tail(row: Int, column: Int, count: Int) {
        var a = Lanes16(bias)
        let origin = phases + row * inputRowBytes + column * 4
        for tap in offsets.indices {
            a.accumulate(origin + offsets[tap] * 4, SIMD16<Float>(repeating: weights[tap]))
        }
        let out = (output + row * outputRowBytes + column * 4).assumingMemoryBound(to: Float.self)
        for lane in 0..<count { out[lane] = a.a[lane] }
    }
}
