import CKilnSupport
import KilnCore

/// Pixel-value operations, each a documented formula.
public enum Color {
    /// `out = clip(round(in * (1 + contrast) + brightness * 255))` per channel (alpha untouched),
    /// albumentations' RandomBrightnessContrast with `brightness_by_max`.
    public static func brightnessContrast(_ image: Image, brightness: Double, contrast: Double) -> Image {
        brightnessContrast(image, brightness: brightness, contrast: contrast, lookup: ByteLookup.isVectorised)
    }

    /// The table, looked up 64 bytes at a time where the CPU permutes bytes (`lookup`); else the
    /// same map as float arithmetic (16 bytes at a time) when that reproduces it; else the table.
    static func brightnessContrast(_ image: Image, brightness: Double, contrast: Double, lookup: Bool) -> Image {
        let table = brightnessContrastTable(brightness: brightness, contrast: contrast)
        guard image.channels != 4, !lookup,
              let (alpha, beta) = brightnessContrastArithmetic(table, brightness: brightness, contrast: contrast) else {
            return mapColor(image, table)
        }
        let pixels = [UInt8](unsafeUninitializedCapacity: image.pixels.count) { target, count in
            image.pixels.withUnsafeBufferPointer { source in
                let from = source.baseAddress!, to = target.baseAddress!
                // `roundedByte` with the clamp after the rounding, on the bit patterns (integer
                // maxima and minima; the same bytes for values below 2^21 in magnitude).
                for index in 0..<source.count {
                    let bits = Int32(bitPattern: (Float(from[index]) * alpha + beta + 12_582_912).bitPattern)
                    to[index] = UInt8(truncatingIfNeeded: Swift.min(Swift.max(bits, 0x4B40_0000), 0x4B40_00FF))
                }
            }
            count = image.pixels.count
        }
        return try! Image(width: image.width, height: image.height, channels: image.channels, pixels: pixels)
    }

    /// `UInt8(clamping: Int(value.rounded(.toNearestOrEven)))` without a trapping conversion:
    /// clamped, then 1.5 · 2^23 added so the rounded integer lands in the low mantissa bits.
    @inline(__always)
    static func roundedByte(_ value: Float) -> UInt8 {
        UInt8(truncatingIfNeeded: (Swift.min(Swift.max(value, 0), 255) + 12_582_912).bitPattern)
    }

    /// The same for a double (1.5 · 2^52).
    @inline(__always)
    static func roundedByte(_ value: Double) -> UInt8 {
        UInt8(truncatingIfNeeded: (Swift.min(Swift.max(value, 0), 255) + 6_755_399_441_055_744).bitPattern)
    }

    /// The brightness/contrast map as float arithmetic, `roundedByte(Float(x) * alpha + beta)`,
    /// when that gives `table`'s byte for every one of the 256 inputs (almost always) and stays
    /// within the range (below 2^21 in magnitude) of the rounding trick its users apply after it,
    /// adding 1.5 · 2^23 and clamping the bit patterns; else nil.
    static func brightnessContrastArithmetic(_ table: [UInt8], brightness: Double, contrast: Double) -> (alpha: Float, beta: Float)? {
        let alpha = Float(1 + contrast), beta = Float(brightness * 255)
        guard abs(alpha) * 255 + abs(beta) < Float(1 << 21), (0..<256).allSatisfy({ roundedByte(Float($0) * alpha + beta) == table[$0] }) else { return nil }
        return (alpha, beta)
    }

    static func brightnessContrastTable(brightness: Double, contrast: Double) -> [UInt8] {
        let alpha = 1 + contrast, beta = brightness * 255
        return [UInt8](unsafeUninitializedCapacity: 256) { table, count in
            for level in 0..<256 {
                // Clamped, then 1.5 · 2^52 added so the rounded integer lands in the low mantissa
                // bits (as `roundedByte`): no trapping conversion, so the loop vectorises.
                let value = Swift.min(Swift.max(Double(level) * alpha + beta, 0), 255)
                table[level] = UInt8(truncatingIfNeeded: (value + 6_755_399_441_055_744).bitPattern)
            }
            count = 256
        }
    }

    /// Applies a lookup table to the colour channels (not to alpha).
    static func mapColor(_ image: Image, _ table: [UInt8]) -> Image {
        let channels = image.channels
        let pixels = [UInt8](unsafeUninitializedCapacity: image.pixels.count) { target, count in
            image.pixels.withUnsafeBufferPointer { source in
                table.withUnsafeBufferPointer { lut in
                    let from = source.baseAddress!, to = target.baseAddress!
                    if channels == 4 {
                        for index in 0..<source.count { to[index] = index & 3 == 3 ? from[index] : lut[Int(from[index])] }
                    } else {
                        ByteLookup.map(from, to: to, count: source.count, table: lut.baseAddress!)
                    }
                }
            }
            count = image.pixels.count
        }
        return try! Image(width: image.width, height: image.height, channels: channels, pixels: pixels)
    }

    /// Grey as `cv2.COLOR_RGB2GRAY` computes it (0.299 R + 0.587 G + 0.114 B in 14-bit fixed
    /// point), kept in as many channels as the input (alpha untouched).
    public static func toGray(_ image: Image) -> Image {
        guard image.channels >= 3 else { return image }
        let channels = image.channels, count = image.width &* image.height
        let pixels = [UInt8](unsafeUninitializedCapacity: image.pixels.count) { target, written in
            image.pixels.withUnsafeBufferPointer { source in
                let from = source.baseAddress!, to = target.baseAddress!
                if channels == 3 {
                    ckiln_rgb_to_gray(from, to, count)
                } else {
                    for index in 0..<count {
                        let base = index &* 4
                        let value = gray(from[base], from[base &+ 1], from[base &+ 2])
                        to[base] = value
                        to[base &+ 1] = value
                        to[base &+ 2] = value
                        to[base &+ 3] = from[base &+ 3]
                    }
                }
            }
            written = image.pixels.count
        }
        return try! Image(width: image.width, height: image.height, channels: channels, pixels: pixels)
    }

    /// One RGB pixel's grey level as `cv2.COLOR_RGB2GRAY` computes it (14-bit fixed point).
    @inline(__always)
    public static func gray(_ r: UInt8, _ g: UInt8, _ b: UInt8) -> UInt8 {
        UInt8(truncatingIfNeeded: (UInt32(r) &* 4899 &+ UInt32(g) &* 9617 &+ UInt32(b) &* 1868 &+ 8192) >> 14)
    }

    /// Shifts hue (on OpenCV's 0...179 scale of half degrees), saturation and value (on 0...255)
    /// in HSV space. Into HSV exactly as `cv2.COLOR_RGB2HSV` computes 8-bit images (12-bit fixed
    /// point with its division tables); the shifts in float (`HSVShift`); back to RGB with
    /// `cv2.COLOR_HSV2RGB`'s sector formula in float. RGB images go 16 pixels at a time
    /// (`ckiln_hsv_shift`), with the same operations as this per-pixel path, so the bytes are equal.
    public static func hueSaturationValue(_ image: Image, hueShift: Double, saturationShift: Double, valueShift: Double) -> Image {
        hueSaturationValue(image, hueShift: hueShift, saturationShift: saturationShift, valueShift: valueShift, vectorised: true)
    }

    static func hueSaturationValue(_ image: Image, hueShift: Double, saturationShift: Double, valueShift: Double,
                                   vectorised: Bool) -> Image {
        guard image.channels >= 3 else { return brightnessContrast(image, brightness: valueShift / 255, contrast: 0) }
        let shift = HSVShift(hue: hueShift, saturation: saturationShift, value: valueShift)
        let tables = HSVTables.shared
        let hues = (0..<256).map { shift.sector(Float($0)) }
        let saturations = (0..<256).map { shift.saturation(Float($0)) }
        let values = (0..<256).map { shift.value(Float($0)) }
        let channels = image.channels, count = image.width &* image.height
        let pixels = [UInt8](unsafeUninitializedCapacity: image.pixels.count) { target, written in
            image.pixels.withUnsafeBufferPointer { source in
                tables.saturation.withUnsafeBufferPointer { sdiv in
                    tables.hue.withUnsafeBufferPointer { hdiv in
                        let from = source.baseAddress!, to = target.baseAddress!
                        let vectorCount = vectorised && channels == 3
                            && ckiln_hsv_shift(from, to, count, shift.hue, shift.saturation, shift.value) == 1 ? count : 0
                        for index in vectorCount..<count {
                            let at = to + index &* channels, pixel = from + index &* channels
                            let r = Int32(pixel[0]), g = Int32(pixel[1]), b = Int32(pixel[2])
                            if channels == 4 { at[3] = pixel[3] }
                            // cv2's RGB2HSV_b.
                            let v = max(r, g, b), difference = v &- min(r, g, b)
                            let s = (difference &* sdiv[Int(v)] &+ (1 << 11)) >> 12
                            var h = v == r ? g &- b : (v == g ? b &- r &+ 2 &* difference : r &- g &+ 4 &* difference)
                            h = (h &* hdiv[Int(difference)] &+ (1 << 11)) >> 12
                            if h < 0 { h &+= 180 }
                            // Shifted, then cv2's HSV2RGB_f.
                            let hh = hues[Int(h)], ss = saturations[Int(s)], vv = values[Int(v)]
                            let sector = Int(hh), fraction = hh - Float(sector)
                            let p = vv * (1 - ss), q = vv * (1 - ss * fraction), t = vv * (1 - ss * (1 - fraction))
                            let (nr, ng, nb): (Float, Float, Float)
                            switch sector {
                            case 0: (nr, ng, nb) = (vv, t, p)
                            case 1: (nr, ng, nb) = (q, vv, p)
                            case 2: (nr, ng, nb) = (p, vv, t)
                            case 3: (nr, ng, nb) = (p, q, vv)
                            case 4: (nr, ng, nb) = (t, p, vv)
                            default: (nr, ng, nb) = (vv, p, q)
                            }
                            at[0] = roundedByte(nr)
                            at[1] = roundedByte(ng)
                            at[2] = roundedByte(nb)
                        }
                    }
                }
            }
            written = image.pixels.count
        }
        return try! Image(width: image.width, height: image.height, channels: channels, pixels: pixels)
    }

    /// Adds Gaussian noise of standard deviation `std * 255` (mean 0) to every colour value,
    /// from the sample's own random stream (which seeds a SplitMix64 sequence): each value takes 16
    /// random bits, mapped through the
    /// normal distribution's inverse CDF at the midpoints of 65,536 equal-probability cells.
    public static func gaussNoise(_ image: Image, std: Double, random: inout PhiloxStream) -> Image {
        var out = image
        let sigma = Float(std * 255)
        let channels = image.channels
        let table = NormalTable.shared.values
        out.pixels.withUnsafeMutableBufferPointer { pixels in
            table.withUnsafeBufferPointer { normal in
                // The sample's stream seeds a SplitMix64 sequence: four 16-bit draws per step.
                var state = random.next()
                var bits: UInt64 = 0
                var remaining = 0
                let count = pixels.count
                var index = 0
                while index < count {
                    if channels == 4 && index & 3 == 3 { index += 1; continue }
                    if remaining == 0 {
                        state &+= 0x9E37_79B9_7F4A_7C15
                        var z = state
                        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
                        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
                        bits = z ^ (z >> 31)
                        remaining = 4
                    }
                    let noisy = Float(pixels[index]) + sigma * normal[Int(bits & 0xFFFF)]
                    bits >>= 16
                    remaining -= 1
                    let rounded = Int32(noisy.rounded(.toNearestOrEven))
                    pixels[index] = UInt8(truncatingIfNeeded: min(max(rounded, 0), 255))
                    index += 1
                }
            }
        }
        return out
    }

    /// `cv2.GaussianBlur(image, (0, 0), sigma)`, bit for bit: a separable kernel of size
    /// `round(sigma * 6 + 1) | 1` in OpenCV's 8-bit fractions (`gaussianKernel`), reflect-101
    /// borders, rows summed exactly in 16 bits, columns exactly in floats (whole numbers below
    /// 2^24), then rounded as `(sum + 2^15) >> 16` — OpenCV's fixed-point arithmetic for 8-bit images.
    public static func gaussianBlur(_ image: Image, sigma: Double) throws -> Image {
        guard sigma > 0, sigma <= maximumBlurSigma else {
            throw KilnError.invalidArgument("GaussianBlur: sigma must be in (0, \(Int(maximumBlurSigma))], got \(sigma)")
        }
        let size = Int((sigma * 6 + 1).rounded(.toNearestOrEven)) | 1
        let half = size / 2
        let fractions = gaussianKernel(size: size, sigma: sigma)
        let kernel = fractions.map { Float($0) }
        let width = image.width, height = image.height, channels = image.channels
        let rowLength = width &* channels
        // Horizontal pass into a ring of `size + 1` float rows (cache-resident, where a whole
        // intermediate image was not): source row r goes to slot r % (size + 1) when an output row
        // first needs it. The rows two neighbouring output rows need span at most `size + 1`
        // consecutive source rows (reflections stay inside that span), so they never share a slot.
        let slots = size + 1
        var ring = [Float](repeating: 0, count: slots * rowLength)
        var stored = [Int](repeating: -1, count: slots)
        // Each row copied once with its reflect-101 border, then summed tap by tap on 32 lanes.
        var padded = [UInt8](repeating: 0, count: (width + 2 * half) * channels)
        let borderColumns = (0..<(2 * half)).map { index in
            BorderMode.reflect101.source(index < half ? index - half : width + index - half, width)!
        }
        var accumulator = [Float](repeating: 0, count: 2 * rowLength)
        let pixels = [UInt8](unsafeUninitializedCapacity: image.pixels.count) { target, written in
            image.pixels.withUnsafeBufferPointer { source in
                ring.withUnsafeMutableBufferPointer { ring in
                    padded.withUnsafeMutableBufferPointer { wide in
                        accumulator.withUnsafeMutableBufferPointer { sums in
                            kernel.withUnsafeBufferPointer { k in
                                let line = wide.baseAddress!, rows = ring.baseAddress!, sum = sums.baseAddress!
                                // Output columns whose taps all lie inside the row read it in place;
                                // the `half` columns at each end read a copy with the border around them.
                                let inside = max(0, width - 2 * half), edge = min(2 * half, width), tail = width - edge
                                func horizontal(_ y: Int, into out: UnsafeMutablePointer<Float>) {
                                    let row = source.baseAddress! + y &* rowLength
                                    ckiln_blur_row(row, inside &* channels, channels, fractions, size, out + half &* channels)
                                    (line + half &* channels).update(from: row, count: edge &* channels)
                                    (line + (half + tail) &* channels).update(from: row + tail &* channels, count: edge &* channels)
                                    for (position, column) in borderColumns.enumerated() {
                                        let x = position < half ? position : width &+ position
                                        for c in 0..<channels { line[x &* channels &+ c] = row[column &* channels &+ c] }
                                    }
                                    let head = min(half, width) &* channels
                                    ckiln_blur_row(line, head, channels, fractions, size, out)
                                    let start = max(half, width - half)
                                    ckiln_blur_row(line + start &* channels, (width - start) &* channels, channels, fractions, size,
                                                   out + start &* channels)
                                }
                                // Vertical pass, two output rows at a time: tap t of output row y reads
                                // row y + t - half (reflected at the edges), so rows y and y + 1 read
                                // the `size + 1` rows from y - half, each loaded once for both.
                                var verticalTaps = [UnsafeRawPointer](repeating: UnsafeRawPointer(rows), count: slots)
                                var y = 0
                                while y < height {
                                    let pair = y + 1 < height
                                    for tap in 0..<(pair ? slots : size) {
                                        let sourceRow = BorderMode.reflect101.source(y + tap - half, height)!
                                        let slot = sourceRow % slots, slotRow = rows + slot &* rowLength
                                        if stored[slot] != sourceRow {
                                            horizontal(sourceRow, into: slotRow)
                                            stored[slot] = sourceRow
                                        }
                                        verticalTaps[tap] = UnsafeRawPointer(slotRow)
                                    }
                                    if pair {
                                        convolvePair(verticalTaps, weights: k.baseAddress!, count: rowLength, into: sum, sum + rowLength)
                                        ckiln_blur_narrow(sum, 2 &* rowLength, target.baseAddress! + y &* rowLength)
                                    } else {
                                        convolve(Array(verticalTaps.prefix(size)), weights: k.baseAddress!, count: rowLength, into: sum)
                                        ckiln_blur_narrow(sum, rowLength, target.baseAddress! + y &* rowLength)
                                    }
                                    y += 2
                                }
                            }
                        }
                    }
                }
            }
            written = image.pixels.count
        }
        return try! Image(width: width, height: height, channels: channels, pixels: pixels)
    }

    /// The largest GaussianBlur sigma: a kernel of 1,201 taps, whose rows of sums stay small.
    static let maximumBlurSigma = 200.0

    /// OpenCV's Gaussian kernel for 8-bit images (`getGaussianKernelBitExact`, then
    /// `getGaussianKernelFixedPoint_ED` with 8 fraction bits): the normalised weights of the left
    /// half scaled by 256 and rounded half to even with the rounding error carried to the next
    /// tap, mirrored, and the centre whatever makes the sum exactly 256. `size` is odd.
    static func gaussianKernel(size: Int, sigma: Double) -> [UInt16] {
        let half = size / 2, scale = -0.125 / (sigma * sigma)
        var values: [Double] = []
        var sum = 0.0
        var x = 1 - size
        for _ in 0..<half {
            let value = exp(Double(x * x) * scale)
            values.append(value)
            sum += value
            x += 2
        }
        let normalise = 1 / (sum * 2 + 1)
        var fractions = [UInt16](repeating: 0, count: size)
        var error = 0.0, total = 0
        for (index, value) in values.enumerated() {
            let adjusted = value * normalise * 256 + error
            let rounded = adjusted.rounded(.toNearestOrEven)
            error = adjusted - rounded
            fractions[index] = UInt16(rounded)
            fractions[size - 1 - index] = UInt16(rounded)
            total += Int(rounded)
        }
        // Error diffusion keeps the sides' sum within a rounding of their real sum: the centre
        // is never below 0 (wide kernels' centres are 0 or 1 of 256).
        fractions[half] = UInt16(max(0, 256 - 2 * total))
        return fractions
    }

    /// `output[i] = Σ_t weights[t] · rows[t][i]` (rows of floats) for i < count, 16 lanes at a
    /// time with the sum kept in registers across the taps (one load per tap, one store per block).
    @inline(__always)
    static func convolve(_ sources: [UnsafeRawPointer], weights: UnsafePointer<Float>, count: Int,
                         into output: UnsafeMutablePointer<Float>) {
        let target = UnsafeMutableRawPointer(output), taps = sources.count
        sources.withUnsafeBufferPointer { rows in
            var index = 0
            // Four independent sums of 16 lanes: the multiply-adds overlap instead of waiting on each other.
            while index &+ 64 <= count {
                let offset = index &* 4
                var (a, b, c, d) = (SIMD16<Float>(), SIMD16<Float>(), SIMD16<Float>(), SIMD16<Float>())
                for tap in 0..<taps {
                    let weight = SIMD16<Float>(repeating: weights[tap]), row = rows[tap] + offset
                    a.addProduct(row.loadUnaligned(as: SIMD16<Float>.self), weight)
                    b.addProduct(row.loadUnaligned(fromByteOffset: 64, as: SIMD16<Float>.self), weight)
                    c.addProduct(row.loadUnaligned(fromByteOffset: 128, as: SIMD16<Float>.self), weight)
                    d.addProduct(row.loadUnaligned(fromByteOffset: 192, as: SIMD16<Float>.self), weight)
                }
                target.storeBytes(of: a, toByteOffset: offset, as: SIMD16<Float>.self)
                target.storeBytes(of: b, toByteOffset: offset &+ 64, as: SIMD16<Float>.self)
                target.storeBytes(of: c, toByteOffset: offset &+ 128, as: SIMD16<Float>.self)
                target.storeBytes(of: d, toByteOffset: offset &+ 192, as: SIMD16<Float>.self)
                index &+= 64
            }
            while index &+ 16 <= count {
                let offset = index &* 4
                var sum = SIMD16<Float>(repeating: 0)
                for tap in 0..<taps {
                    sum.addProduct(rows[tap].loadUnaligned(fromByteOffset: offset, as: SIMD16<Float>.self), SIMD16(repeating: weights[tap]))
                }
                target.storeBytes(of: sum, toByteOffset: offset, as: SIMD16<Float>.self)
                index &+= 16
            }
            while index < count {
                var sum: Float = 0
                for tap in 0..<taps { sum += weights[tap] * rows[tap].load(fromByteOffset: index &* 4, as: Float.self) }
                target.storeBytes(of: sum, toByteOffset: index &* 4, as: Float.self)
                index &+= 1
            }
        }
    }

    /// Two neighbouring rows of `convolve` from `taps + 1` rows: `first[i] = Σ_t weights[t] ·
    /// rows[t][i]`, `second[i] = Σ_t weights[t] · rows[t + 1][i]`, each row loaded once for both.
    @inline(__always)
    static func convolvePair(_ sources: [UnsafeRawPointer], weights: UnsafePointer<Float>, count: Int,
                             into first: UnsafeMutablePointer<Float>, _ second: UnsafeMutablePointer<Float>) {
        let taps = sources.count - 1
        let one = UnsafeMutableRawPointer(first), two = UnsafeMutableRawPointer(second)
        sources.withUnsafeBufferPointer { rows in
            var index = 0
            while index &+ 32 <= count {
                let offset = index &* 4
                var (a, b, c, d) = (SIMD16<Float>(), SIMD16<Float>(), SIMD16<Float>(), SIMD16<Float>())
                // Row 0 feeds only the first output, row `taps` only the second.
                var weight = SIMD16<Float>(repeating: weights[0])
                a.addProduct(rows[0].loadUnaligned(fromByteOffset: offset, as: SIMD16<Float>.self), weight)
                b.addProduct(rows[0].loadUnaligned(fromByteOffset: offset &+ 64, as: SIMD16<Float>.self), weight)
                for tap in 1..<taps {
                    let x = rows[tap].loadUnaligned(fromByteOffset: offset, as: SIMD16<Float>.self)
                    let z = rows[tap].loadUnaligned(fromByteOffset: offset &+ 64, as: SIMD16<Float>.self)
                    weight = SIMD16(repeating: weights[tap])
                    let previous = SIMD16<Float>(repeating: weights[tap &- 1])
                    a.addProduct(x, weight)
                    b.addProduct(z, weight)
                    c.addProduct(x, previous)
                    d.addProduct(z, previous)
                }
                weight = SIMD16(repeating: weights[taps &- 1])
                c.addProduct(rows[taps].loadUnaligned(fromByteOffset: offset, as: SIMD16<Float>.self), weight)
                d.addProduct(rows[taps].loadUnaligned(fromByteOffset: offset &+ 64, as: SIMD16<Float>.self), weight)
                one.storeBytes(of: a, toByteOffset: offset, as: SIMD16<Float>.self)
                one.storeBytes(of: b, toByteOffset: offset &+ 64, as: SIMD16<Float>.self)
                two.storeBytes(of: c, toByteOffset: offset, as: SIMD16<Float>.self)
                two.storeBytes(of: d, toByteOffset: offset &+ 64, as: SIMD16<Float>.self)
                index &+= 32
            }
            // As `convolve` goes on: 16 lanes (multiply-adds), then single values (multiply, add).
            while index &+ 16 <= count {
                let offset = index &* 4
                var (a, c) = (SIMD16<Float>(), SIMD16<Float>())
                for tap in 0..<taps {
                    let weight = SIMD16<Float>(repeating: weights[tap])
                    a.addProduct(rows[tap].loadUnaligned(fromByteOffset: offset, as: SIMD16<Float>.self), weight)
                    c.addProduct(rows[tap &+ 1].loadUnaligned(fromByteOffset: offset, as: SIMD16<Float>.self), weight)
                }
                one.storeBytes(of: a, toByteOffset: offset, as: SIMD16<Float>.self)
                two.storeBytes(of: c, toByteOffset: offset, as: SIMD16<Float>.self)
                index &+= 16
            }
            while index < count {
                var (sumOne, sumTwo): (Float, Float) = (0, 0)
                for tap in 0..<taps {
                    sumOne += weights[tap] * rows[tap].load(fromByteOffset: index &* 4, as: Float.self)
                    sumTwo += weights[tap] * rows[tap &+ 1].load(fromByteOffset: index &* 4, as: Float.self)
                }
                one.storeBytes(of: sumOne, toByteOffset: index &* 4, as: Float.self)
                two.storeBytes(of: sumTwo, toByteOffset: index &* 4, as: Float.self)
                index &+= 1
            }
        }
    }

    /// Fills rectangles with `fill` (CoarseDropout).
    public static func fillRectangles(_ image: Image, _ rectangles: [(x: Int, y: Int, width: Int, height: Int)], fill: [UInt8]) -> Image {
        var out = image
        let channels = image.channels, rowBytes = image.width * channels
        out.pixels.withUnsafeMutableBufferPointer { pixels in
            for rectangle in rectangles {
                let left = max(0, rectangle.x), right = min(image.width, rectangle.x + rectangle.width)
                let top = max(0, rectangle.y), bottom = min(image.height, rectangle.y + rectangle.height)
                guard left < right, top < bottom else { continue }
                // One row of the hole, then copied into every row it covers.
                let span = (right - left) * channels
                let pattern = (0..<span).map { fill[min($0 % channels, fill.count - 1)] }
                pattern.withUnsafeBufferPointer { row in
                    for y in top..<bottom {
                        (pixels.baseAddress! + y * rowBytes + left * channels).update(from: row.baseAddress!, count: span)
                    }
                }
            }
        }
        return out
    }
}

/// HueSaturationValue's shifts, as float operations that the per-pixel and the 16-lane paths
/// both perform (so that they agree to the bit).
struct HSVShift {
    /// The hue shift reduced to (-180, 180).
    let hue: Float
    let saturation: Float
    let value: Float

    init(hue: Double, saturation: Double, value: Double) {
        self.hue = Float(hue.truncatingRemainder(dividingBy: 180))
        self.saturation = Float(saturation)
        self.value = Float(value)
    }

    /// A hue (0...179) shifted, wrapped into [0, 180) and made a sector coordinate in [0, 6).
    @inline(__always)
    func sector(_ hue: Float) -> Float {
        var shifted = hue + self.hue
        if shifted < 0 { shifted += 180 }
        if shifted >= 180 { shifted -= 180 }
        let sector = shifted * (1 / 30)  // cv2's hscale: 6 / 180
        return sector < 6 ? sector : 0
    }

    /// A saturation level shifted and clamped to 0...255, as a fraction.
    @inline(__always)
    func saturation(_ level: Float) -> Float { Swift.min(Swift.max(level + saturation, 0), 255) * (1 / 255) }

    /// A value level shifted and clamped to 0...255.
    @inline(__always)
    func value(_ level: Float) -> Float { Swift.min(Swift.max(level + value, 0), 255) }
}

/// OpenCV's division tables for 8-bit RGB → HSV (`hsv_shift` = 12): 255 / v and 180 / (6 d).
final class HSVTables: Sendable {
    static let shared = HSVTables()
    let saturation: [Int32]
    let hue: [Int32]

    private init() {
        saturation = (0..<256).map { $0 == 0 ? 0 : Int32((Double(255 << 12) / Double($0)).rounded(.toNearestOrEven)) }
        hue = (0..<256).map { $0 == 0 ? 0 : Int32((Double(180 << 12) / (6 * Double($0))).rounded(.toNearestOrEven)) }
    }
}

/// The standard normal's quantiles at (k + 0.5) / 65536, for k in 0..<65536.
final class NormalTable: Sendable {
    static let shared = NormalTable()
    let values: [Float]

    private init() {
        values = (0..<65536).map { Float(Self.quantile((Double($0) + 0.5) / 65536)) }
    }

    /// Acklam's rational approximation refined by one Newton step on erfc (|error| < 1e-12).
    static func quantile(_ p: Double) -> Double {
        let a = [-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02, 1.383577518672690e+02, -3.066479806614716e+01, 2.506628277459239e+00]
        let b = [-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02, 6.680131188771972e+01, -1.328068155288572e+01]
        let c = [-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00, -2.549732539343734e+00, 4.374664141464968e+00, 2.938163982698783e+00]
        let d = [7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00, 3.754408661907416e+00]
        var x: Double
        if p < 0.02425 {
            let q = (-2 * log(p)).squareRoot()
            x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1)
        } else if p > 1 - 0.02425 {
            let q = (-2 * log(1 - p)).squareRoot()
            x = -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1)
        } else {
            let q = p - 0.5, r = q * q
            x = (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1)
        }
        let e = 0.5 * erfc(-x / 2.0.squareRoot()) - p
        let u = e * (2 * Double.pi).squareRoot() * exp(x * x / 2)
        return x - u / (1 + x * u / 2)
    }
}

/// uint8 → float32 `(value / 255 - mean) / std` per channel, HWC or CHW (albumentations'
/// Normalize with `max_pixel_value` 255).
public enum Normalize {
    public enum Layout: String, Sendable { case hwc = "HWC", chw = "CHW" }

    /// One 256-entry table per channel: the value of each byte, computed as the formula says.
    static func tables(channels: Int, mean: [Double], std: [Double]) -> [Float] {
        var tables = [Float](repeating: 0, count: 256 * channels)
        for c in 0..<channels {
            let (scale, offset) = coefficients(channel: c, mean: mean, std: std)
            for value in 0..<256 { tables[c * 256 + value] = offset.addingProduct(Float(value), scale) }
        }
        return tables
    }

    /// Channel `c`'s value is `Float(byte) * scale + offset`, one fused multiply-add (rounded once).
    static func coefficients(channel c: Int, mean: [Double], std: [Double]) -> (scale: Float, offset: Float) {
        let deviation = std[min(c, std.count - 1)]
        return (Float(1 / (255 * deviation)), Float(-mean[min(c, mean.count - 1)] / deviation))
    }

    public static func apply(_ image: Image, mean: [Double], std: [Double], layout: Layout,
                             into output: UnsafeMutablePointer<Float>) {
        apply(image, tables: tables(channels: image.channels, mean: mean, std: std), layout: layout, into: output)
    }

    /// `apply` with the tables already computed.
    static func apply(_ image: Image, tables: [Float], layout: Layout, into output: UnsafeMutablePointer<Float>) {
        let channels = image.channels, plane = image.width * image.height
        image.pixels.withUnsafeBufferPointer { pixels in
            tables.withUnsafeBufferPointer { table in
                if layout == .hwc {
                    for index in 0..<(plane * channels) { output[index] = table[(index % channels) * 256 + Int(pixels[index])] }
                } else {
                    for c in 0..<channels {
                        let lut = table.baseAddress! + c * 256, target = output + c * plane
                        var source = pixels.baseAddress! + c
                        for index in 0..<plane {
                            target[index] = lut[Int(source.pointee)]
                            source += channels
                        }
                    }
                }
            }
        }
    }
}

#if canImport(Glibc)
import Glibc
#endif
