import CKilnSupport
import KilnCore
import Testing
@testable import KilnVision

/// The RGB-to-planar resampler of the fused training pipeline: its AVX-512 kernels against their
/// scalar references, and the whole against `Resize` (then a flip) byte for byte.
@Suite struct PlanarResampleTests {
    /// Deterministic bytes that vary in every channel and position.
    func bytes(_ count: Int, seed: Int) -> [UInt8] {
        var state = UInt64(seed) &* 0x9E37_79B9_7F4A_7C15 | 1
        return (0..<count).map { _ in
            state ^= state << 13; state ^= state >> 7; state ^= state << 17
            return UInt8(truncatingIfNeeded: state >> 24)
        }
    }

    /// Per-pixel taps as `Resize` makes them, mirrored when asked.
    func taps(source: Int, target: Int, mirrored: Bool) -> (left: [Int32], right: [Int32], weight0: [Int32], weight1: [Int32]) {
        let xs = Resize.linearTaps(source: source, target: target)
        var result: (left: [Int32], right: [Int32], weight0: [Int32], weight1: [Int32]) = ([], [], [], [])
        for x in 0..<target {
            let from = mirrored ? target - 1 - x : x
            result.left.append(Int32(xs.index[from]))
            result.right.append(Int32(min(xs.index[from] + 1, source - 1)))
            result.weight0.append(xs.weight0[from])
            result.weight1.append(xs.weight1[from])
        }
        return result
    }

    @Test func horizontalSumsEqualTheScalarFormula() {
        // Upscales, downscales up to the 2.6× limit, mirrored or not; rows that end at the last
        // tap (the masked loads) and rows with room to spare.
        for (source, target) in [(10, 37), (40, 40), (64, 41), (100, 40), (300, 224), (512, 224), (130, 50)] {
            for mirrored in [false, true] {
                let t = taps(source: source, target: target, mirrored: mirrored)
                let blocks = UnsafeMutablePointer<ckiln_rgb_block>.allocate(capacity: (target + 15) / 16)
                defer { blocks.deallocate() }
                #expect(ckiln_rgb_blocks_prepare(t.left, t.right, t.weight0, t.weight1, target, blocks) == 1)
                for spare in [0, 5, 200] {
                    let row = bytes(source * 3 + spare, seed: source + target + spare)
                    let padded = (target + 15) / 16 * 16
                    var vector = [Int32](repeating: -1, count: 3 * padded), scalar = vector
                    vector.withUnsafeMutableBufferPointer { out in
                        ckiln_rgb_resample_row(row, source * 3, blocks, target, out.baseAddress!, out.baseAddress! + padded, out.baseAddress! + 2 * padded)
                    }
                    scalar.withUnsafeMutableBufferPointer { out in
                        ckiln_rgb_resample_row_scalar(row, blocks, target, out.baseAddress!, out.baseAddress! + padded, out.baseAddress! + 2 * padded)
                    }
                    #expect(vector == scalar, "\(source) → \(target), mirrored \(mirrored)")
                    for x in 0..<padded {
                        for c in 0..<3 {
                            let expected = x < target
                                ? Int32(row[Int(t.left[x]) * 3 + c]) * t.weight0[x] + Int32(row[Int(t.right[x]) * 3 + c]) * t.weight1[x] : 0
                            #expect(scalar[c * padded + x] == expected)
                        }
                    }
                }
            }
        }
    }

    @Test func steepDownscalesAreDeclined() {
        let t = taps(source: 200, target: 40, mirrored: false)  // 5×: 16 pixels span 80 source pixels
        let blocks = UnsafeMutablePointer<ckiln_rgb_block>.allocate(capacity: 3)
        defer { blocks.deallocate() }
        #expect(ckiln_rgb_blocks_prepare(t.left, t.right, t.weight0, t.weight1, 40, blocks) == 0)
    }

    @Test func blendedRowsEqualTheScalarFormula() {
        let count = 41, stride = 64 + 16
        let top = bytes(3 * stride * 4, seed: 1).withUnsafeBytes { Array($0.bindMemory(to: UInt32.self)).map { Int32($0 % 522_241) } }
        let bottom = bytes(3 * stride * 4, seed: 2).withUnsafeBytes { Array($0.bindMemory(to: UInt32.self)).map { Int32($0 % 522_241) } }
        let changes: [ckiln_rgb_levels] = [
            ckiln_rgb_levels(scale: (1, 1, 1), offset: (0, 0, 0), alpha: 1, beta: 0, adjust: 0),
            ckiln_rgb_levels(scale: (0.017, 0.0175, 0.0174), offset: (-2.1, -2.03, -1.8), alpha: 1.37, beta: -31.2, adjust: 1),
        ]
        for var levels in changes {
            for (w0, w1) in [(Int32(2048), Int32(0)), (1024, 1024), (317, 1731), (1025, 1024)] {
                // Every alignment of the output within a 64-byte line, and short rows.
                for (shift, length) in [(0, count), (1, count), (7, count), (15, count), (3, 5), (0, 16), (9, 1)] {
                    var vector = [Float](repeating: .nan, count: 3 * 128), scalar = vector
                    for (target, kernel) in [(0, true), (1, false)] {
                        var output = target == 0 ? vector : scalar
                        output.withUnsafeMutableBufferPointer { out in
                            let base = out.baseAddress! + shift
                            if kernel {
                                ckiln_rgb_blend_rows(top, bottom, stride, w0, w1, length, &levels, nil, base, base + 128, base + 256)
                            } else {
                                ckiln_rgb_blend_rows_scalar(top, bottom, stride, w0, w1, length, &levels, base, base + 128, base + 256)
                            }
                        }
                        ckiln_stream_fence()
                        if target == 0 { vector = output } else { scalar = output }
                    }
                    #expect(vector.map(\.bitPattern) == scalar.map(\.bitPattern), "weights \(w0), \(w1), shift \(shift)")
                    // The scalar reference against the formulas of the step-by-step path.
                    for c in 0..<3 {
                        for i in 0..<length {
                            var level = Int32(min(max((Int64(w0) * Int64(top[c * stride + i]) + Int64(w1) * Int64(bottom[c * stride + i]) + (1 << 21)) >> 22, 0), 255))
                            if levels.adjust == 1 { level = Int32(Color.roundedByte(Float(level) * levels.alpha + levels.beta)) }
                            let scale = [levels.scale.0, levels.scale.1, levels.scale.2][c], offset = [levels.offset.0, levels.offset.1, levels.offset.2][c]
                            #expect(scalar[c * 128 + shift + i] == Float(level) * scale + offset)
                        }
                        #expect(scalar[c * 128 + shift + length].isNaN)
                    }
                }
            }
        }
    }

    /// Rows streamed in memory order through `ckiln_rgb_stream` (whole lines, the partial ones
    /// completed by the next row): the same floats as ordinary stores, wherever the planes start
    /// within a line, and in any row order (a row that does not continue the held line writes
    /// it out first).
    @Test func streamedRowsEqualOrdinaryStores() {
        let stride = 112
        let top = bytes(3 * stride * 4, seed: 3).withUnsafeBytes { Array($0.bindMemory(to: UInt32.self)).map { Int32($0 % 522_241) } }
        let bottom = bytes(3 * stride * 4, seed: 4).withUnsafeBytes { Array($0.bindMemory(to: UInt32.self)).map { Int32($0 % 522_241) } }
        var levels = ckiln_rgb_levels(scale: (0.5, 0.25, 2), offset: (1, -1, 0.5), alpha: 1.2, beta: 7, adjust: 1)
        for width in [31, 32, 33, 41, 48, 100] {
            for shift in 0..<16 {
                for order in [Array(0..<5), [4, 3, 2, 1, 0], [0, 2, 1, 4, 3]] {
                    let plane = width * 5, total = 3 * plane + 32
                    var streamed = [Float](repeating: .nan, count: total), ordinary = streamed
                    for (kernel, isStreamed) in [(true, true), (false, false)] {
                        var output = isStreamed ? streamed : ordinary
                        output.withUnsafeMutableBufferPointer { out in
                            var stream = ckiln_rgb_stream()
                            for row in order {
                                // Each row its own weights: the rows differ.
                                let w0 = Int32(400 * row + 100), w1 = 2048 - w0
                                let target = out.baseAddress! + shift + row * width
                                if kernel {
                                    ckiln_rgb_blend_rows(top, bottom, stride, w0, w1, width, &levels, &stream,
                                                         target, target + plane, target + 2 * plane)
                                } else {
                                    ckiln_rgb_blend_rows_scalar(top, bottom, stride, w0, w1, width, &levels,
                                                                target, target + plane, target + 2 * plane)
                                }
                            }
                            ckiln_rgb_stream_finish(&stream)
                        }
                        if isStreamed { streamed = output } else { ordinary = output }
                    }
                    #expect(streamed.map(\.bitPattern) == ordinary.map(\.bitPattern), "width \(width), shift \(shift), rows \(order)")
                }
            }
        }
    }

    /// The whole: the planar floats of a window (unit Normalize, no colour change) are the bytes
    /// of `Resize.cropResize`, flipped as asked — from a view with a negative row stride too.
    @Test func planarRowsAreResizedBytesFlipped() throws {
        let image = try Image(width: 300, height: 70, channels: 3, pixels: bytes(300 * 70 * 3, seed: 9))
        let unit = ckiln_rgb_levels(scale: (1, 1, 1), offset: (0, 0, 0), alpha: 1, beta: 0, adjust: 0)
        for (window, width, height) in [((0, 0, 300, 70), 224, 40), ((13, 5, 280, 60), 131, 131), ((290, 60, 10, 10), 33, 17),
                                        ((100, 20, 30, 9), 12, 30)] {
            let resized = try Resize.cropResize(image, x: window.0, y: window.1, cropWidth: window.2, cropHeight: window.3,
                                                width: width, height: height, interpolation: .bilinear)
            for (flipX, flipY) in [(false, false), (true, false), (false, true), (true, true)] {
                var expected = [Float](repeating: 0, count: 3 * width * height)
                for y in 0..<height {
                    for x in 0..<width {
                        for c in 0..<3 {
                            let to = c * width * height + (flipY ? height - 1 - y : y) * width + (flipX ? width - 1 - x : x)
                            expected[to] = Float(resized.pixels[(y * width + x) * 3 + c])
                        }
                    }
                }
                // The planes starting anywhere within a cache line.
                let shift = (width + height) % 16
                var output = [Float](repeating: .nan, count: 3 * width * height + shift)
                let rendered = image.withView { view in
                    output.withUnsafeMutableBufferPointer { out in
                        PlanarResample.bilinearRGB(view, window: window, width: width, height: height, flipX: flipX, flipY: flipY,
                                                   levels: unit, into: out.baseAddress! + shift)
                    }
                }
                #expect(rendered)
                #expect(Array(output[shift...]) == expected, "window \(window), flips \(flipX) \(flipY)")
                #expect(output[..<shift].allSatisfy { $0.isNaN })
            }
        }
        // The image stored upside down, read through a negative row stride (a numpy view [::-1]).
        var upsideDown = [UInt8](repeating: 0, count: image.pixels.count)
        for y in 0..<70 { upsideDown[(69 - y) * 900..<(70 - y) * 900] = image.pixels[y * 900..<(y + 1) * 900] }
        let reference = try Resize.cropResize(image, x: 7, y: 3, cropWidth: 250, cropHeight: 50, width: 100, height: 30, interpolation: .bilinear)
        var output = [Float](repeating: .nan, count: 3 * 100 * 30)
        try upsideDown.withUnsafeBytes { bytes in
            let view = try PixelView(base: bytes.baseAddress! + 69 * 900, width: 300, height: 70, channels: 3, rowStride: -900)
            _ = output.withUnsafeMutableBufferPointer { out in
                PlanarResample.bilinearRGB(view, window: (7, 3, 250, 50), width: 100, height: 30, flipX: false, flipY: false,
                                           levels: unit, into: out.baseAddress!)
            }
        }
        #expect(output[0..<3000] == ArraySlice((0..<3000).map { Float(reference.pixels[$0 * 3]) }))
    }
}
