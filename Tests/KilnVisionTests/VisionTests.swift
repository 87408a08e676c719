import CKilnSupport
import Foundation
import KilnCore
import Testing
@testable import KilnVision

@Suite struct VisionTests {
    /// A 40×30 RGB test pattern with gradients and an edge.
    func pattern(width: Int = 40, height: Int = 30, channels: Int = 3) throws -> Image {
        var image = try Image(width: width, height: height, channels: channels)
        for y in 0..<height {
            for x in 0..<width {
                for c in 0..<channels { image[x, y, c] = UInt8((x * 7 + y * 3 + c * 50 + (x > width / 2 ? 90 : 0)) % 256) }
            }
        }
        return image
    }

    @Test func bordersFollowOpenCV() {
        // cv2.borderInterpolate for n = 5.
        #expect((-3...7).map { BorderMode.reflect.source($0, 5)! } == [2, 1, 0, 0, 1, 2, 3, 4, 4, 3, 2])
        #expect((-3...7).map { BorderMode.reflect101.source($0, 5)! } == [3, 2, 1, 0, 1, 2, 3, 4, 3, 2, 1])
        #expect((-3...7).map { BorderMode.replicate.source($0, 5)! } == [0, 0, 0, 0, 1, 2, 3, 4, 4, 4, 4])
        #expect(BorderMode.constant.source(-1, 5) == nil && BorderMode.constant.source(4, 5) == 4)
    }

    @Test func bilinearResizeAgreesWithAFloatReference() throws {
        let image = try pattern()
        let out = try Resize.resize(image, width: 17, height: 23)
        let sx = 40.0 / 17, sy = 30.0 / 23
        for y in 0..<23 {
            for x in 0..<17 {
                var fx = (Double(x) + 0.5) * sx - 0.5, fy = (Double(y) + 0.5) * sy - 0.5
                fx = min(max(fx, 0), 39); fy = min(max(fy, 0), 29)
                let x0 = Int(fx), y0 = Int(fy), x1 = min(x0 + 1, 39), y1 = min(y0 + 1, 29)
                let ax = fx - Double(x0), ay = fy - Double(y0)
                for c in 0..<3 {
                    let value = Double(image[x0, y0, c]) * (1 - ax) * (1 - ay) + Double(image[x1, y0, c]) * ax * (1 - ay)
                        + Double(image[x0, y1, c]) * (1 - ax) * ay + Double(image[x1, y1, c]) * ax * ay
                    #expect(abs(Double(out[x, y, c]) - value) <= 1, "(\(x), \(y), \(c))")
                }
            }
        }
    }

    /// The resampler's RGB fast path (four lanes per pixel) and its scalar tail against cv2's
    /// 11-bit fixed-point formula (as its SIMD code computes it: sums cut to 15 bits, high halves
    /// of 16-bit products) computed tap by tap: equal bytes, down- and upscaling, in a crop.
    @Test(arguments: [(17, 23, false), (64, 50, false), (40, 30, false), (25, 19, true), (77, 61, true)])
    func bilinearResizeEqualsTheFixedPointReference(width: Int, height: Int, cropped: Bool) throws {
        let image = try pattern(width: 40, height: 30)
        let window = cropped ? (x: 7, y: 3, width: 29, height: 22) : (x: 0, y: 0, width: 40, height: 30)
        let out = try Resize.bilinear(image, width: width, height: height, window: window)
        let xs = Resize.linearTaps(source: window.width, target: width), ys = Resize.linearTaps(source: window.height, target: height)
        for y in 0..<height {
            let y0 = ys.index[y], y1 = min(y0 + 1, window.height - 1)
            for x in 0..<width {
                let x0 = xs.index[x], x1 = min(x0 + 1, window.width - 1)
                for c in 0..<3 {
                    func row(_ sy: Int) -> Int32 {
                        Int32(image[window.x + x0, window.y + sy, c]) * xs.weight0[x] + Int32(image[window.x + x1, window.y + sy, c]) * xs.weight1[x]
                    }
                    let value = ((row(y0) / 16) * ys.weight0[y] / 65536 + (row(y1) / 16) * ys.weight1[y] / 65536 + 2) / 4
                    #expect(Int32(out[x, y, c]) == min(max(value, 0), 255), "(\(x), \(y), \(c))")
                }
            }
        }
    }

    /// `ckiln_linear_taps` (vectorised where the CPU allows) against OpenCV's formula computed
    /// one coordinate at a time: up- and downscales, one-pixel axes, lengths that leave 1 to 7
    /// coordinates past the last whole vector.
    @Test func linearTapsFollowOpenCVsFormula() {
        var pairs = [(1, 1), (1, 9), (9, 1), (512, 224), (224, 512), (333, 224), (40, 17), (3, 1000), (1000, 3), (7, 7)]
        for source in stride(from: 2, through: 700, by: 37) { for target in [5, 15, 16, 17, 223, 224, 225] { pairs.append((source, target)) } }
        for (source, target) in pairs {
            let s = 1.0 / (Double(target) / Double(source))
            var expected: (index: [Int], weight0: [Int32], weight1: [Int32]) = ([], [], [])
            for d in 0..<target {
                var f = (Double(d) + 0.5) * s - 0.5
                var i = Int(f.rounded(.down))
                f -= Double(i)
                if i < 0 { f = 0; i = 0 }
                if i >= source - 1 { f = 0; i = source - 1 }
                expected.index.append(i)
                expected.weight0.append(Int32((Float(1 - f) * 2048).rounded(.toNearestOrEven)))
                expected.weight1.append(Int32((Float(f) * 2048).rounded(.toNearestOrEven)))
            }
            let taps = Resize.linearTaps(source: source, target: target)
            #expect(taps.index == expected.index && taps.weight0 == expected.weight0 && taps.weight1 == expected.weight1, "\(source) → \(target)")
        }
    }

    @Test func rotationByZeroAndFullTurnIsIdentity() throws {
        let image = try pattern()
        let same = try Warp.affine(image, matrix: .rotation(degrees: 0, centerX: 19.5, centerY: 14.5), fill: [0])
        #expect(same == image)
        let halfTurn = try Warp.affine(image, matrix: .rotation(degrees: 180, centerX: 19.5, centerY: 14.5), fill: [0])
        #expect(halfTurn == Geometry.flipVertical(Geometry.flipHorizontal(image)))
    }

    /// The vectorised bilinear warp (RGB and RGBA; float32 coordinates, taps read four bytes at
    /// a time, pixels near the edges handed to the per-pixel path) against the four-tap formula in
    /// double precision with cv2's border rules: within one grey level everywhere, and mostly equal.
    @Test(arguments: [BorderMode.constant, .replicate, .reflect101])
    func bilinearWarpAgreesWithADoubleReference(border: BorderMode) throws {
        let matrices = [AffineMatrix.rotation(degrees: 30, centerX: 19.5, centerY: 14.5),
                        .rotation(degrees: -17, centerX: 3, centerY: 40, scale: 1.7),
                        AffineMatrix(0.5, 0.1, 4, -0.2, 0.6, 9),  // enlarging, sheared
                        AffineMatrix(1e-7, 0, 0, 0, 1e-7, 0),  // coordinates far outside the float tricks' range
                        AffineMatrix(1, 0, 25.3, 0, 1, -12.6)]  // mostly off the source
        for channels in [3, 4] {
            let image = try pattern(width: 41, height: 29, channels: channels)
            for matrix in matrices {
                let out = try Warp.affine(image, matrix: matrix, width: 37, height: 33, border: border, fill: [7, 8, 9, 10])
                let inverse = try matrix.inverted()
                var equal = 0
                for y in 0..<33 {
                    for x in 0..<37 {
                        let sx = inverse.a * Double(x) + inverse.b * Double(y) + inverse.c
                        let sy = inverse.d * Double(x) + inverse.e * Double(y) + inverse.f
                        let x0 = Int(sx.rounded(.down)), y0 = Int(sy.rounded(.down))
                        let ax = sx - Double(x0), ay = sy - Double(y0)
                        for c in 0..<channels {
                            func tap(_ px: Int, _ py: Int) -> Double {
                                guard let ix = border.source(px, 41), let iy = border.source(py, 29) else { return Double(7 + c) }
                                return Double(image[ix, iy, c])
                            }
                            let value = tap(x0, y0) * (1 - ax) * (1 - ay) + tap(x0 + 1, y0) * ax * (1 - ay)
                                + tap(x0, y0 + 1) * (1 - ax) * ay + tap(x0 + 1, y0 + 1) * ax * ay
                            let expected = min(max(value.rounded(.toNearestOrEven), 0), 255)
                            #expect(abs(Double(out[x, y, c]) - expected) <= 1, "\(matrix) (\(x), \(y), \(c))")
                            if Double(out[x, y, c]) == expected { equal += 1 }
                        }
                    }
                }
                #expect(equal * 100 >= 37 * 33 * channels * 99, "\(matrix): \(equal) equal")
            }
        }
    }

    /// The horizontal flip mirrors every row, whatever the channel count.
    @Test(arguments: [1, 3, 4])
    func horizontalFlipMirrorsEveryRow(channels: Int) throws {
        let image = try pattern(width: 37, height: 6, channels: channels)
        let flipped = Geometry.flipHorizontal(image)
        for y in 0..<6 {
            for x in 0..<37 {
                for c in 0..<channels { #expect(flipped[x, y, c] == image[36 - x, y, c]) }
            }
        }
    }

    /// The vertical flip (rows copied in pairs from both ends, 64 bytes at a time, then the rest)
    /// reverses the rows, for odd and even heights, one row included, rows shorter than 64 bytes,
    /// with a rest, and a whole number of 64 bytes.
    @Test(arguments: [(9, 1), (9, 6), (9, 7), (37, 7), (37, 8), (512, 5)])
    func verticalFlipReversesTheRows(width: Int, height: Int) throws {
        let image = try pattern(width: width, height: height, channels: 3)
        let flipped = Geometry.flipVertical(image)
        for y in 0..<height {
            for x in 0..<width {
                for c in 0..<3 { #expect(flipped[x, y, c] == image[x, height - 1 - y, c]) }
            }
        }
    }

    /// Padding against the border rule applied pixel by pixel, for every mode and channel count,
    /// with borders narrower than the image (the reflected runs copied in reverse) and wider than
    /// it (reflections that bounce, pixel by pixel).
    @Test func paddingFollowsTheBorderRuleEverywhere() throws {
        for channels in [1, 3, 4] {
            let image = try pattern(width: 9, height: 5, channels: channels)
            for border in BorderMode.allCases {
                for (top, bottom, left, right) in [(2, 3, 4, 1), (0, 0, 8, 8), (7, 11, 13, 20), (1, 0, 0, 5)] {
                    let fill: [UInt8] = [11, 22, 33, 44]
                    let out = try Geometry.pad(image, top: top, bottom: bottom, left: left, right: right, border: border, fill: fill)
                    #expect(out.width == 9 + left + right && out.height == 5 + top + bottom)
                    for y in 0..<out.height {
                        for x in 0..<out.width {
                            for c in 0..<channels {
                                let sx = border.source(x - left, 9), sy = border.source(y - top, 5)
                                let expected = sx.flatMap { sx in sy.map { image[sx, $0, c] } } ?? fill[c]
                                #expect(out[x, y, c] == expected, "\(border) \(channels) channels, (\(x), \(y), \(c))")
                            }
                        }
                    }
                }
            }
        }
    }

    /// The blur (horizontal rows kept in a ring of `size + 1` rows, the row ends read from a
    /// bordered copy) against OpenCV's fixed-point formula computed directly — `(Σ_y k_y Σ_x k_x
    /// pixel + 2^15) >> 16` with reflect-101 borders — byte for byte, including images shorter and
    /// narrower than the kernel; and within one level of the real-valued Gaussian.
    @Test(arguments: [(40, 30, 1.5), (9, 4, 1.5), (23, 17, 0.6), (5, 13, 1.2), (77, 3, 3.1), (300, 20, 0.9)])
    func gaussianBlurIsOpenCVsFixedPointArithmetic(width: Int, height: Int, sigma: Double) throws {
        let image = try pattern(width: width, height: height)
        let out = try Color.gaussianBlur(image, sigma: sigma)
        let size = Int((sigma * 6 + 1).rounded(.toNearestOrEven)) | 1, half = size / 2
        let fractions = Color.gaussianKernel(size: size, sigma: sigma).map(Int.init)
        #expect(fractions.reduce(0, +) == 256)
        let raw = (0..<size).map { exp(-Double(($0 - half) * ($0 - half)) / (2 * sigma * sigma)) }
        let kernel = raw.map { $0 / raw.reduce(0, +) }
        for y in 0..<height {
            for x in 0..<width {
                for c in 0..<3 {
                    var fixed = 0, value = 0.0
                    for ty in 0..<size {
                        let sy = BorderMode.reflect101.source(y + ty - half, height)!
                        var row = 0
                        for tx in 0..<size {
                            let pixel = image[BorderMode.reflect101.source(x + tx - half, width)!, sy, c]
                            row += fractions[tx] * Int(pixel)
                            value += kernel[ty] * kernel[tx] * Double(pixel)
                        }
                        fixed += fractions[ty] * row
                    }
                    #expect(Int(out[x, y, c]) == min((fixed + (1 << 15)) >> 16, 255), "(\(x), \(y), \(c))")
                    #expect(abs(Double(out[x, y, c]) - value.rounded()) <= 1, "(\(x), \(y), \(c))")
                }
            }
        }
    }

    /// OpenCV's 8-bit kernels: the 7-tap sigma-2 kernel of `cv::GaussianBlur` (Q8), and every
    /// kernel sums to 256 and is symmetric.
    @Test func gaussianKernelsAreOpenCVs() {
        #expect(Color.gaussianKernel(size: 7, sigma: 2) == [18, 34, 48, 56, 48, 34, 18])
        #expect(throws: KilnError.self) { try Color.gaussianBlur(try pattern(), sigma: 201) }
        #expect(throws: KilnError.self) { try Color.gaussianBlur(try pattern(), sigma: .nan) }
        for sigma in Array(stride(from: 0.1, through: 8.0, by: 0.05)) + [50, 119.7, 120, 150, 199.9, 200] {
            let size = Int((sigma * 6 + 1).rounded(.toNearestOrEven)) | 1
            let kernel = Color.gaussianKernel(size: size, sigma: sigma)
            #expect(kernel.map(Int.init).reduce(0, +) == 256 && kernel == Array(kernel.reversed()), "sigma \(sigma)")
        }
    }

    /// The blur's AVX-512 row and rounding kernels against their one-at-a-time references, for
    /// every length around the 32- and 16-lane steps.
    @Test func blurKernelsEqualTheirScalarReferences() {
        let kernel: [UInt16] = [3, 17, 40, 136, 40, 17, 3]
        let bytes = (0..<400).map { UInt8(truncatingIfNeeded: $0 &* 97 &+ $0 / 7) }
        for count in [0, 1, 15, 16, 17, 31, 32, 33, 63, 64, 65, 100] {
            for step in [1, 3, 4] {
                var vector = [Float](repeating: -1, count: 128), scalar = vector
                ckiln_blur_row(bytes, count, step, kernel, kernel.count, &vector)
                ckiln_blur_row_scalar(bytes, count, step, kernel, kernel.count, &scalar)
                #expect(vector == scalar, "count \(count), step \(step)")
                #expect(vector[count...].allSatisfy { $0 == -1 })
            }
            let sums = (0..<count).map { Float(($0 &* 524_287) % 16_777_216) }
            var narrowed = [UInt8](repeating: 7, count: 128), reference = narrowed
            ckiln_blur_narrow(sums, count, &narrowed)
            ckiln_blur_narrow_scalar(sums, count, &reference)
            #expect(narrowed == reference && narrowed[count...].allSatisfy { $0 == 7 }, "count \(count)")
            #expect(zip(sums, reference).allSatisfy { Int($1) == min((Int($0) + (1 << 15)) >> 16, 255) })
        }
    }

    /// The 16-pixel HueSaturationValue kernel against the per-pixel path: equal bytes for every
    /// red and green level with blues at the ends and the middle, under shifts that wrap the hue
    /// both ways and clamp saturation and value at both ends.
    @Test(arguments: [(10.0, 20.0, -15.0), (-37.25, -80.5, 42.75), (179.9, 255.0, -255.0), (0.0, 0.0, 0.0), (-0.001, 3.3, 0.5)])
    func hueSaturationValueKernelEqualsThePerPixelPath(hue: Double, saturation: Double, value: Double) throws {
        let width = 1021, height = 386  // 394,106 pixels: every (r, g) for six blues, then a remainder of 10
        var pixels = [UInt8](repeating: 0, count: width * height * 3)
        let blues: [UInt8] = [0, 1, 127, 128, 254, 255]
        for index in 0..<(width * height) {
            let colour = index % (256 * 256 * 6)
            pixels[index * 3] = UInt8(colour % 256)
            pixels[index * 3 + 1] = UInt8(colour / 256 % 256)
            pixels[index * 3 + 2] = blues[colour / 65536]
        }
        let image = try Image(width: width, height: height, channels: 3, pixels: pixels)
        let vectorised = Color.hueSaturationValue(image, hueShift: hue, saturationShift: saturation, valueShift: value, vectorised: true)
        let perPixel = Color.hueSaturationValue(image, hueShift: hue, saturationShift: saturation, valueShift: value, vectorised: false)
        let differing = zip(vectorised.pixels, perPixel.pixels).enumerated().first { $0.element.0 != $0.element.1 }
        #expect(differing == nil, "first difference at byte \(differing?.offset ?? -1)")
    }

    /// Area shrinking against the two-dimensional weighted mean it computes separably.
    @Test(arguments: [(40, 30, 3, 10, 10), (41, 29, 3, 13, 7), (37, 23, 4, 5, 9), (64, 64, 1, 21, 16), (9, 7, 3, 9, 7)])
    func areaResizeIsTheCoveredMean(width: Int, height: Int, channels: Int, toWidth: Int, toHeight: Int) throws {
        let source = try pattern(width: width, height: height, channels: channels)
        let out = try Resize.resize(source, width: toWidth, height: toHeight, interpolation: .area)
        let sx = Double(width) / Double(toWidth), sy = Double(height) / Double(toHeight)
        func overlap(_ cell: Int, _ d: Int, _ s: Double) -> Double {
            max(0, min(Double(d + 1) * s, Double(cell + 1)) - max(Double(d) * s, Double(cell)))
        }
        var equal = 0
        for y in 0..<toHeight {
            for x in 0..<toWidth {
                for c in 0..<channels {
                    var sum = 0.0, total = 0.0
                    for row in 0..<height {
                        for column in 0..<width {
                            let weight = overlap(row, y, sy) * overlap(column, x, sx)
                            sum += weight * Double(source[column, row, c])
                            total += weight
                        }
                    }
                    let expected = (sum / total).rounded(.toNearestOrEven)
                    #expect(abs(Double(out[x, y, c]) - expected) <= 1, "(\(x), \(y), \(c))")
                    if Double(out[x, y, c]) == expected { equal += 1 }
                }
            }
        }
        #expect(equal >= toWidth * toHeight * channels * 999 / 1000)
    }

    /// ToGray (16 pixels a step where the CPU permutes bytes) against cv2's fixed-point formula
    /// pixel by pixel, on every (r, g) pair and its complement as blue, for widths that leave 0 to
    /// 15 pixels after the last whole step; four channels keep their alpha.
    @Test(arguments: [1, 5, 15, 16, 17, 31, 256])
    func toGrayFollowsOpenCVsFormula(width: Int) throws {
        let height = (65_536 + width - 1) / width
        var pixels: [UInt8] = []
        for index in 0..<(width * height) {
            let r = UInt8(truncatingIfNeeded: index), g = UInt8(truncatingIfNeeded: index >> 8)
            pixels.append(r)
            pixels.append(g)
            pixels.append(255 &- r &+ g)
        }
        let image = try Image(width: width, height: height, channels: 3, pixels: pixels)
        let grey = Color.toGray(image)
        for index in 0..<(width * height) {
            let r = UInt32(pixels[3 * index]), g = UInt32(pixels[3 * index + 1]), b = UInt32(pixels[3 * index + 2])
            let value = UInt8((r * 4899 + g * 9617 + b * 1868 + 8192) >> 14)
            #expect(grey.pixels[3 * index ..< 3 * index + 3].allSatisfy { $0 == value }, "pixel \(index)")
        }
        let rgba = try pattern(width: width, height: 3, channels: 4)
        let greyAlpha = Color.toGray(rgba)
        for y in 0..<3 {
            for x in 0..<width {
                #expect(greyAlpha[x, y, 3] == rgba[x, y, 3])
                #expect(greyAlpha[x, y, 0] == Color.gray(rgba[x, y, 0], rgba[x, y, 1], rgba[x, y, 2]))
            }
        }
    }

    /// The brightness/contrast table against its formula, rounded half to even and clamped.
    @Test(arguments: [(0.1, -0.3), (-0.2, 0.2), (0.0, 0.0), (0.5, -1.5), (-0.004, 0.013), (3.0, 30_000.0), (-1.0, -2.0),
                      (0.5 / 255, 0.0), (-1.5 / 255, 0.0)])
    func brightnessContrastTableFollowsItsFormula(brightness: Double, contrast: Double) {
        let expected = (0..<256).map { UInt8(clamping: Int((Double($0) * (1 + contrast) + brightness * 255).rounded(.toNearestOrEven))) }
        #expect(Color.brightnessContrastTable(brightness: brightness, contrast: contrast) == expected)
    }

    /// RandomBrightnessContrast's arithmetic path and its table lookup give the table's bytes (the
    /// lookup is the scalar loop where the CPU lacks AVX-512 VBMI); contrasts beyond the rounding
    /// trick's range take the table.
    @Test(arguments: [(0.1, -0.3), (-0.2, 0.2), (0.0, 0.0), (0.5, -1.5), (-0.004, 0.013), (3.0, 30_000.0), (-1.0, -2.0)])
    func brightnessContrastEqualsItsTable(brightness: Double, contrast: Double) throws {
        // Every level, in 112 × 16 RGB pixels (all 256 levels in each channel, 21 times over).
        let image = try Image(width: 112, height: 16, channels: 3, pixels: (0..<(112 * 16 * 3)).map { UInt8(255 - $0 % 256) })
        let expected = Color.mapColor(image, Color.brightnessContrastTable(brightness: brightness, contrast: contrast))
        for lookup in [true, false] {
            let out = Color.brightnessContrast(image, brightness: brightness, contrast: contrast, lookup: lookup)
            #expect(out.pixels == expected.pixels, "lookup \(lookup)")
        }
    }

    @Test func codecsRoundTrip() throws {
        for channels in [1, 3, 4] {
            let image = try pattern(channels: channels)
            #expect(try ImageCodec.decode(try ImageCodec.encode(image, as: .png)) == image)
            let jpeg = try ImageCodec.decode(try ImageCodec.encode(image, as: .jpeg, quality: 100))
            #expect(jpeg.width == 40 && jpeg.height == 30 && jpeg.channels == (channels == 1 ? 1 : 3))
        }
        #expect(throws: KilnError.self) { try ImageCodec.decode([0xFF, 0xD8, 0xFF, 0x00]) }
        #expect(throws: KilnError.self) { try ImageCodec.decode(Array("not an image".utf8)) }
        #expect(throws: KilnError.self) { try ImageCodec.decode([]) }
    }

    @Test func imagesRejectBadShapes() throws {
        #expect(throws: KilnError.self) { try Image(width: 0, height: 5, channels: 3) }
        #expect(throws: KilnError.self) { try Image(width: 5, height: 5, channels: 2) }
        #expect(throws: KilnError.self) { try Image(width: 2, height: 2, channels: 3, pixels: [1, 2, 3]) }
        // A view with negative strides (numpy's [::-1, ::-1]) is read without a copy of its own.
        let image = try pattern()
        let flipped = try image.pixels.withUnsafeBytes { bytes in
            try Image(copying: bytes.baseAddress! + (29 * 40 + 39) * 3, width: 40, height: 30, channels: 3,
                      rowStride: -40 * 3, pixelStride: -3)
        }
        #expect(flipped == Geometry.flipVertical(Geometry.flipHorizontal(image)))
    }

    static let spec = """
        {"transforms": [
          {"name": "RandomResizedCrop", "size": [16, 16]},
          {"name": "HorizontalFlip", "p": 0.5},
          {"name": "RandomBrightnessContrast", "p": 0.8},
          {"name": "SomeOf", "n": 2, "transforms": [{"name": "GaussNoise", "std_range": [0.02, 0.1]}, {"name": "ToGray"},
                                                   {"name": "CoarseDropout", "num_holes_range": [1, 3]}]},
          {"name": "Normalize", "layout": "CHW"}
        ]}
        """

    @Test func samplesDependOnSeedAndIndexOnly() throws {
        let pipeline = try Pipeline(json: Self.spec)
        let images = try (0..<12).map { try pattern(width: 30 + $0, height: 25 + $0 % 3) }
        let whole = try pipeline.batch(images, seed: 9, startIndex: 100, threads: 1)
        let threaded = try pipeline.batch(images, seed: 9, startIndex: 100, threads: 2)
        let first = try pipeline.batch(Array(images[0..<5]), seed: 9, startIndex: 100, threads: 2)
        let second = try pipeline.batch(Array(images[5...]), seed: 9, startIndex: 105, threads: 1)
        let all = try whole.scalars(as: Float.self)
        #expect(whole.shape == [12, 3, 16, 16])
        #expect(try threaded.scalars(as: Float.self) == all)
        #expect(try first.scalars(as: Float.self) + second.scalars(as: Float.self) == all)
        #expect(try pipeline.batch(images, seed: 10, startIndex: 100).scalars(as: Float.self) != all)
        // One sample alone equals its slot in the batch, and Normalize is (v / 255 - mean) / std.
        let single = try pipeline.sample(images[3], seed: 9, index: 103).image
        let plane = 16 * 16
        for c in 0..<3 {
            let mean = [0.485, 0.456, 0.406][c], std = [0.229, 0.224, 0.225][c]
            for index in 0..<plane {
                let expected = (Double(single.pixels[index * 3 + c]) / 255 - mean) / std
                #expect(abs(Double(all[3 * 3 * plane + c * plane + index]) - expected) < 1e-5)
            }
        }
    }

    @Test func replayRecordsWhatEachSampleGot() throws {
        let pipeline = try Pipeline(json: #"{"transforms": [{"name": "Rotate", "limit": 10, "p": 0.5}, {"name": "HorizontalFlip", "p": 1}]}"#)
        var applied = 0
        for index in 0..<200 {
            let replay = try pipeline.sample(try pattern(), seed: 1, index: index).replay
            #expect(replay.map(\.name) == ["Rotate", "HorizontalFlip"])
            if replay[0].applied {
                applied += 1
                let angle = replay[0].parameters[0].value
                #expect(replay[0].parameters[0].name == "angle" && (-10...10).contains(angle))
            }
        }
        #expect((70...130).contains(applied))
    }

    @Test func batchesNeedOneOutputSize() throws {
        let pipeline = try Pipeline(json: #"{"transforms": [{"name": "HorizontalFlip"}]}"#)
        #expect(throws: KilnError.self) { try pipeline.batch([try pattern(), try pattern(width: 20)], seed: 1) }
    }
}

@Suite struct FusedPipelineTests {
    /// The one-pass rendering of the training pipeline gives exactly the values of the
    /// step-by-step path (sample, then Normalize), for every flip and colour draw.
    @Test(arguments: [
        #"{"transforms": [{"name": "RandomResizedCrop", "size": [24, 20]}, {"name": "HorizontalFlip", "p": 0.5}, {"name": "RandomBrightnessContrast", "p": 0.5}, {"name": "Normalize", "layout": "CHW"}]}"#,
        #"{"transforms": [{"name": "Resize", "height": 17, "width": 29}, {"name": "VerticalFlip", "p": 0.5}, {"name": "HorizontalFlip", "p": 0.5}, {"name": "RandomBrightnessContrast", "brightness_limit": 0.5, "p": 0.7}, {"name": "RandomBrightnessContrast", "p": 0.5}, {"name": "Normalize", "layout": "HWC"}]}"#,
        #"{"transforms": [{"name": "RandomResizedCrop", "size": [16, 16], "p": 0.8}, {"name": "HorizontalFlip"}], "p": 0.9}"#,
        // A contrast far beyond the float rounding trick's range: the table path.
        #"{"transforms": [{"name": "RandomResizedCrop", "size": [9, 20]}, {"name": "RandomBrightnessContrast", "contrast_limit": [30000, 40000], "p": 1}, {"name": "Normalize", "layout": "CHW"}]}"#,
        // RGB to CHW 16 pixels at a time: two whole blocks and a tail, flipped or not.
        #"{"transforms": [{"name": "RandomResizedCrop", "size": [9, 41]}, {"name": "HorizontalFlip", "p": 0.5}, {"name": "RandomBrightnessContrast", "brightness_limit": 0.4, "contrast_limit": 0.6, "p": 0.6}, {"name": "Normalize", "mean": [0.1, 0.5, 0.9], "std": [0.3, 0.2, 0.1], "layout": "CHW"}]}"#,
    ])
    func fusedEqualsStepByStep(spec: String) throws {
        let pipeline = try Pipeline(json: spec)
        #expect(pipeline.fused != nil)
        var images: [Image] = []
        for index in 0..<24 {
            var image = try Image(width: 37 + index % 5, height: 31 + index % 4, channels: 3)
            for offset in image.pixels.indices { image.pixels[offset] = UInt8((offset * 37 + index * 11) % 251) }
            images.append(image)
        }
        // Samples whose size-changing step is skipped (p < 1) make batches of other sizes: take
        // the indices whose output has the batch's size, and compare those.
        let shape = try pipeline.batchShape(images, seed: 3, startIndex: 0)
        let perSample = shape.dropFirst().reduce(1, *)
        for (position, image) in images.enumerated() {
            let sample = try pipeline.sample(image, seed: 3, index: position).image
            guard sample.width * sample.height * sample.channels == perSample else { continue }
            var expected = [Float](repeating: 0, count: perSample)
            expected.withUnsafeMutableBufferPointer { pipeline.tensorValues(sample, into: $0.baseAddress!) }
            let batch = try pipeline.batch([image], seed: 3, startIndex: position)
            #expect(try batch.scalars(as: Float.self) == expected, "sample \(position)")
        }
    }

    /// A window shrunk more than the planar resampler's gathers reach (10×) takes the table path:
    /// still the step-by-step values.
    @Test func steepDownscalesTakeTheTablePath() throws {
        let pipeline = try Pipeline(json: #"{"transforms": [{"name": "Resize", "height": 10, "width": 20}, {"name": "HorizontalFlip", "p": 0.5}, {"name": "Normalize", "layout": "CHW"}]}"#)
        var image = try Image(width: 200, height: 50, channels: 3)
        for offset in image.pixels.indices { image.pixels[offset] = UInt8((offset * 37) % 251) }
        for index in 0..<4 {
            let sample = try pipeline.sample(image, seed: 5, index: index).image
            var expected = [Float](repeating: 0, count: 600)
            expected.withUnsafeMutableBufferPointer { pipeline.tensorValues(sample, into: $0.baseAddress!) }
            #expect(try pipeline.batch([image], seed: 5, startIndex: index).scalars(as: Float.self) == expected)
        }
    }

    @Test func otherShapesAreNotFused() throws {
        #expect(try Pipeline(json: #"{"transforms": [{"name": "Rotate"}, {"name": "Resize", "height": 8, "width": 8}]}"#).fused == nil)
        #expect(try Pipeline(json: #"{"transforms": [{"name": "Resize", "height": 8, "width": 8, "interpolation": "area"}]}"#).fused == nil)
        #expect(try Pipeline(json: #"{"transforms": [{"name": "Resize", "height": 8, "width": 8}, {"name": "ToGray"}]}"#).fused == nil)
    }
}
