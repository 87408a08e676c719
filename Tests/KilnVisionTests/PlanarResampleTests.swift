import CKilnSupport
import KilnCore
import Testing
@testable import KilnVision

/// The RGB-to-planar resampler of the fused training pipeline: its AVX-512 kernel against the
/// scalar reference, the reference against OpenCV's formula, and the whole against `Resize`
/// (then a flip) byte for byte.
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

    @Test func blocksAreWholeCacheLines() {
        #expect(MemoryLayout<ckiln_rgb_block>.stride == 4 * 64)
    }

    @Test func steepDownscalesAreDeclined() {
        let t = taps(source: 200, target: 40, mirrored: false)  // 5×: 16 pixels span 80 source pixels
        let blocks = UnsafeMutablePointer<ckiln_rgb_block>.allocate(capacity: 3)
        defer { blocks.deallocate() }
        #expect(ckiln_rgb_blocks_prepare(t.left, t.right, t.weight0, t.weight1, 40, blocks) == 0)
    }

    /// The blocks made 16 pixels at a time (where the CPU has AVX-512) equal the scalar
    /// reference's byte for byte, and both decline the same taps: steep downscales, a tap or
    /// weight out of range, weights summing past 2056.
    @Test func blocksEqualTheScalarReference() {
        var cases: [(left: [Int32], right: [Int32], weight0: [Int32], weight1: [Int32])] = []
        for (source, target, mirrored) in [(100, 224, false), (300, 224, true), (512, 224, false), (23, 23, true), (40, 33, false),
                                           (1, 5, false), (579, 224, true), (600, 224, false), (7, 1, false)] {
            cases.append(taps(source: source, target: target, mirrored: mirrored))
        }
        let valid = taps(source: 64, target: 40, mirrored: false)
        cases.append(valid)
        for (lane, field, value) in [(3, 2, Int32(2049)), (17, 3, -1), (39, 2, 2048), (0, 0, 9)] {
            var broken = valid
            switch field {
            case 0: broken.left[lane] = value
            case 2: broken.weight0[lane] = value
            default: broken.weight1[lane] = value
            }
            cases.append(broken)
        }
        for t in cases {
            let count = t.left.count, blockCount = (count + 15) / 16
            let vector = UnsafeMutablePointer<ckiln_rgb_block>.allocate(capacity: blockCount)
            let scalar = UnsafeMutablePointer<ckiln_rgb_block>.allocate(capacity: blockCount)
            defer { vector.deallocate(); scalar.deallocate() }
            UnsafeMutableRawPointer(vector).initializeMemory(as: UInt8.self, repeating: 0xAB, count: 256 * blockCount)
            UnsafeMutableRawPointer(scalar).initializeMemory(as: UInt8.self, repeating: 0xCD, count: 256 * blockCount)
            let made = ckiln_rgb_blocks_prepare(t.left, t.right, t.weight0, t.weight1, count, vector)
            #expect(made == ckiln_rgb_blocks_prepare_scalar(t.left, t.right, t.weight0, t.weight1, count, scalar))
            if made == 1 {
                #expect(UnsafeRawBufferPointer(start: vector, count: 256 * blockCount)
                    .elementsEqual(UnsafeRawBufferPointer(start: scalar, count: 256 * blockCount)), "\(count) pixels")
            }
        }
    }

    /// A brightness/contrast-like map of the levels.
    let levelMap: [UInt8] = (0..<256).map { UInt8(min(255, max(0, ($0 * 7) / 5 - 20))) }

    /// The AVX-512 kernel against the scalar reference, bit for bit: up- and downscales up to the
    /// 2.6× limit, windows that end at the image's last byte (the masked loads), flips, with and
    /// without a level map, the planes starting anywhere within a cache line, short rows; and
    /// nothing written outside the planes.
    @Test func resampledPlanesEqualTheScalarReference() throws {
        let image = try Image(width: 300, height: 90, channels: 3, pixels: bytes(300 * 90 * 3, seed: 5))
        let cases: [((Int, Int, Int, Int), Int, Int)] = [
            ((0, 0, 300, 90), 224, 40), ((0, 0, 300, 90), 131, 200), ((20, 10, 280, 80), 111, 37), ((290, 80, 10, 10), 33, 17),
            ((100, 20, 30, 9), 12, 30), ((5, 5, 64, 64), 64, 64), ((0, 0, 300, 90), 1, 1), ((7, 3, 61, 50), 23, 3),
        ]
        for (window, width, height) in cases {
            for (flipX, flipY) in [(false, false), (true, false), (false, true), (true, true)] {
                for levels in [nil, levelMap] {
                    for shift in [0, 1, 5, 8, 15] {
                        let count = 3 * width * height + 40
                        var vector = [Float](repeating: .nan, count: count), scalar = vector
                        for (kernel, output) in [(true, 0), (false, 1)] {
                            var out = output == 0 ? vector : scalar
                            let done: Void? = image.withView { view in
                                out.withUnsafeMutableBufferPointer { buffer in
                                    PlanarResample.withJob(view, window: window, width: width, height: height, flipX: flipX, flipY: flipY,
                                                           levels: levels, scale: (0.017, 0.0175, 1), offset: (-2.1, -2.03, 0),
                                                           into: buffer.baseAddress! + 16 + shift) { job in
                                        kernel ? ckiln_rgb_resample(&job) : ckiln_rgb_resample_scalar(&job)
                                    }
                                }
                            }
                            #expect(done != nil)
                            if output == 0 { vector = out } else { scalar = out }
                        }
                        #expect(vector.map(\.bitPattern) == scalar.map(\.bitPattern),
                                "window \(window) → \(width)×\(height), flips \(flipX) \(flipY), map \(levels != nil), shift \(shift)")
                        let planes = 16 + shift..<16 + shift + 3 * width * height
                        #expect(vector.indices.allSatisfy { planes.contains($0) != vector[$0].isNaN })
                    }
                }
            }
        }
    }

    /// The kernel multiplies bytes by the weights' high and low parts (`w = 16·h + l`): at the
    /// extremes of the weights — a whole weight on one tap, sums up to the 2056 allowed — and of
    /// the bytes (255 everywhere, and alternating 0 and 255) it still gives the formula's values.
    @Test func splitWeightsGiveTheFormulaAtTheirExtremes() throws {
        let pairs: [(Int32, Int32)] = [(2048, 0), (0, 2048), (2048, 8), (8, 2048), (1028, 1028), (2047, 1), (1, 2047), (16, 2032),
                                       (15, 2033), (1024, 1024), (2040, 16), (0, 0), (31, 2017), (2017, 31), (1111, 937), (2025, 31)]
        let width = pairs.count, sourceWidth = 40
        let left = (0..<width).map { Int32($0 * 2) }, right = (0..<width).map { Int32($0 * 2 + 1) }
        let blocks = UnsafeMutablePointer<ckiln_rgb_block>.allocate(capacity: 1)
        defer { blocks.deallocate() }
        #expect(ckiln_rgb_blocks_prepare(left, right, pairs.map(\.0), pairs.map(\.1), width, blocks) == 1)
        for pattern in [{ (_: Int) in UInt8(255) }, { (i: Int) in UInt8(i % 2 == 0 ? 255 : 0) }, { (i: Int) in UInt8(i % 2 == 0 ? 0 : 255) }] {
            let source = (0..<sourceWidth * 3).map { pattern($0 / 3) }
            var row: Int32 = 0
            var rowWeights: (Int16, Int16) = (2048, 0)
            var outputs: [[Float]] = []
            for kernel in [true, false] {
                var planes = [Float](repeating: .nan, count: 3 * width)
                withUnsafePointer(to: &row) { rows in
                    withUnsafeBytes(of: &rowWeights) { weights in
                        source.withUnsafeBufferPointer { bytes in
                            planes.withUnsafeMutableBufferPointer { out in
                                let base = out.baseAddress!
                                var job = ckiln_rgb_resample_job(
                                    source: bytes.baseAddress!, row_stride: sourceWidth * 3, row_bytes: sourceWidth * 3,
                                    window_width: sourceWidth, window_height: 1, blocks: blocks, rows: rows,
                                    row_weights: weights.baseAddress!.assumingMemoryBound(to: Int16.self), width: width, height: 1,
                                    levels: nil, scale: (1, 1, 1), offset: (0, 0, 0), planes: (base, base + width, base + 2 * width),
                                    next_source: nil, next_row_stride: 0, next_row_bytes: 0, next_rows: 0)
                                kernel ? ckiln_rgb_resample(&job) : ckiln_rgb_resample_scalar(&job)
                            }
                        }
                    }
                }
                outputs.append(planes)
            }
            let expected = (0..<3 * width).map { index -> Float in
                let x = index % width, (w0, w1) = pairs[x]
                let h = (Int(pattern(2 * x)) * Int(w0) + Int(pattern(2 * x + 1)) * Int(w1)) / 16
                return Float(min(255, (h * 2048 / 65536 + 2) / 4))
            }
            #expect(outputs[0] == expected)
            #expect(outputs[1] == expected)
        }
    }

    /// The scalar reference is OpenCV's formula (its SIMD code's): `h = (l·a0 + r·a1) >> 4` per
    /// source row, then `((h0·b0) >> 16) + ((h1·b1) >> 16) + 2) >> 2`, mapped, times the scale
    /// plus the offset (fused).
    @Test func theReferenceIsOpenCVsFixedPointFormula() throws {
        let image = try Image(width: 97, height: 61, channels: 3, pixels: bytes(97 * 61 * 3, seed: 8))
        for (window, width, height) in [((0, 0, 97, 61), 50, 40), ((3, 4, 90, 50), 131, 77)] {
            for levels in [nil, levelMap] {
                var output = [Float](repeating: .nan, count: 3 * width * height)
                _ = image.withView { view in
                    output.withUnsafeMutableBufferPointer { buffer in
                        PlanarResample.withJob(view, window: window, width: width, height: height, flipX: false, flipY: false,
                                               levels: levels, scale: (0.5, 0.25, 2), offset: (1, -1, 0.5),
                                               into: buffer.baseAddress!) { ckiln_rgb_resample_scalar(&$0) }
                    }
                }
                let xs = Resize.linearTaps(source: window.2, target: width), ys = Resize.linearTaps(source: window.3, target: height)
                for y in 0..<height {
                    let y0 = ys.index[y], y1 = min(y0 + 1, window.3 - 1)
                    for x in 0..<width {
                        let x0 = xs.index[x], x1 = min(x0 + 1, window.2 - 1)
                        for c in 0..<3 {
                            func h(_ row: Int) -> Int {
                                (Int(image[window.0 + x0, window.1 + row, c]) * Int(xs.weight0[x])
                                    + Int(image[window.0 + x1, window.1 + row, c]) * Int(xs.weight1[x])) / 16
                            }
                            var level = min(255, (h(y0) * Int(ys.weight0[y]) / 65536 + h(y1) * Int(ys.weight1[y]) / 65536 + 2) / 4)
                            if let levels { level = Int(levels[level]) }
                            let value = [Float(1), -1, 0.5][c].addingProduct(Float(level), [Float(0.5), 0.25, 2][c])
                            #expect(output[c * width * height + y * width + x] == value, "(\(x), \(y), \(c))")
                        }
                    }
                }
            }
        }
    }

    /// The whole: the planar floats of a window (unit Normalize, no colour change) are the bytes
    /// of `Resize.cropResize`, flipped as asked — from a view with a negative row stride too.
    @Test func planarRowsAreResizedBytesFlipped() throws {
        let image = try Image(width: 300, height: 70, channels: 3, pixels: bytes(300 * 70 * 3, seed: 9))
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
                                                   levels: nil, scale: (1, 1, 1), offset: (0, 0, 0), into: out.baseAddress! + shift)
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
                                           levels: nil, scale: (1, 1, 1), offset: (0, 0, 0), into: out.baseAddress!)
            }
        }
        #expect(output[0..<3000] == ArraySlice((0..<3000).map { Float(reference.pixels[$0 * 3]) }))
    }
}
