import KilnCore

/// Pixel-value operations, each a documented formula.
public enum Color {
    /// `out = clip(round(in * (1 + contrast) + brightness * 255))` per channel (alpha untouched),
    /// albumentations' RandomBrightnessContrast with `brightness_by_max`.
    public static func brightnessContrast(_ image: Image, brightness: Double, contrast: Double) -> Image {
        let alpha = 1 + contrast, beta = brightness * 255
        let table = (0..<256).map { UInt8(clamping: Int((Double($0) * alpha + beta).rounded(.toNearestOrEven))) }
        return mapColor(image, table)
    }

    /// Applies a lookup table to the colour channels (not to alpha).
    static func mapColor(_ image: Image, _ table: [UInt8]) -> Image {
        var out = image
        let colorChannels = image.channels == 4 ? 3 : image.channels
        out.pixels.withUnsafeMutableBufferPointer { pixels in
            table.withUnsafeBufferPointer { lut in
                if colorChannels == image.channels {
                    for index in pixels.indices { pixels[index] = lut[Int(pixels[index])] }
                } else {
                    for index in pixels.indices where index % 4 != 3 { pixels[index] = lut[Int(pixels[index])] }
                }
            }
        }
        return out
    }

    /// Grey as `cv2.COLOR_RGB2GRAY` computes it (0.299 R + 0.587 G + 0.114 B in 14-bit fixed
    /// point), kept in as many channels as the input (alpha untouched).
    public static func toGray(_ image: Image) -> Image {
        guard image.channels >= 3 else { return image }
        var out = image
        let channels = image.channels
        out.pixels.withUnsafeMutableBufferPointer { pixels in
            for index in stride(from: 0, to: pixels.count, by: channels) {
                let gray = (Int(pixels[index]) * 4899 + Int(pixels[index + 1]) * 9617 + Int(pixels[index + 2]) * 1868 + 8192) >> 14
                let value = UInt8(gray)
                pixels[index] = value
                pixels[index + 1] = value
                pixels[index + 2] = value
            }
        }
        return out
    }

    /// Shifts hue (degrees, on OpenCV's 0...179 scale of half degrees), saturation and value
    /// (on 0...255) in HSV space; colour conversions as `cv2.COLOR_RGB2HSV` / `HSV2RGB` define them.
    public static func hueSaturationValue(_ image: Image, hueShift: Double, saturationShift: Double, valueShift: Double) -> Image {
        guard image.channels >= 3 else { return brightnessContrast(image, brightness: valueShift / 255, contrast: 0) }
        var out = image
        let channels = image.channels
        for index in stride(from: 0, to: out.pixels.count, by: channels) {
            let r = Double(out.pixels[index]), g = Double(out.pixels[index + 1]), b = Double(out.pixels[index + 2])
            let maximum = max(r, g, b), minimum = min(r, g, b)
            let delta = maximum - minimum
            var v = maximum
            var s = maximum == 0 ? 0 : delta / maximum * 255
            var h = 0.0
            if delta > 0 {
                if maximum == r { h = 60 * (g - b) / delta } else if maximum == g { h = 120 + 60 * (b - r) / delta } else { h = 240 + 60 * (r - g) / delta }
                if h < 0 { h += 360 }
            }
            // OpenCV's uint8 scale: hue in half degrees.
            var hue = (h / 2).rounded(.toNearestOrEven) + hueShift
            hue = hue.truncatingRemainder(dividingBy: 180)
            if hue < 0 { hue += 180 }
            s = min(255, max(0, s.rounded(.toNearestOrEven) + saturationShift))
            v = min(255, max(0, v + valueShift))
            // Back to RGB.
            let hh = hue * 2 / 60, ss = s / 255
            let sector = Int(hh.rounded(.down)) % 6, fraction = hh - hh.rounded(.down)
            let p = v * (1 - ss), q = v * (1 - ss * fraction), t = v * (1 - ss * (1 - fraction))
            let (nr, ng, nb): (Double, Double, Double)
            switch sector {
            case 0: (nr, ng, nb) = (v, t, p)
            case 1: (nr, ng, nb) = (q, v, p)
            case 2: (nr, ng, nb) = (p, v, t)
            case 3: (nr, ng, nb) = (p, q, v)
            case 4: (nr, ng, nb) = (t, p, v)
            default: (nr, ng, nb) = (v, p, q)
            }
            out.pixels[index] = UInt8(clamping: Int(nr.rounded(.toNearestOrEven)))
            out.pixels[index + 1] = UInt8(clamping: Int(ng.rounded(.toNearestOrEven)))
            out.pixels[index + 2] = UInt8(clamping: Int(nb.rounded(.toNearestOrEven)))
        }
        return out
    }

    /// Adds Gaussian noise of standard deviation `std * 255` (mean 0) to every colour value,
    /// from the sample's own random stream.
    public static func gaussNoise(_ image: Image, std: Double, random: inout PhiloxStream) -> Image {
        var out = image
        let sigma = std * 255
        let channels = image.channels
        for index in out.pixels.indices where !(channels == 4 && index % 4 == 3) {
            let noisy = Double(out.pixels[index]) + sigma * random.nextNormal()
            out.pixels[index] = UInt8(clamping: Int(noisy.rounded(.toNearestOrEven)))
        }
        return out
    }

    /// `cv2.GaussianBlur(image, (0, 0), sigma)`: a separable kernel of size
    /// `round(sigma * 6 + 1) | 1`, reflect-101 borders.
    public static func gaussianBlur(_ image: Image, sigma: Double) throws -> Image {
        guard sigma > 0, sigma.isFinite else { throw KilnError.invalidArgument("GaussianBlur: sigma must be positive, got \(sigma)") }
        let size = Int((sigma * 6 + 1).rounded(.toNearestOrEven)) | 1
        let half = size / 2
        var kernel = (0..<size).map { exp(-Double(($0 - half) * ($0 - half)) / (2 * sigma * sigma)) }
        let total = kernel.reduce(0, +)
        kernel = kernel.map { $0 / total }
        let width = image.width, height = image.height, channels = image.channels
        var horizontal = [Double](repeating: 0, count: image.pixels.count)
        for y in 0..<height {
            for x in 0..<width {
                for c in 0..<channels {
                    var sum = 0.0
                    for k in 0..<size {
                        let sx = BorderMode.reflect101.source(x + k - half, width)!
                        sum += kernel[k] * Double(image.pixels[(y * width + sx) * channels + c])
                    }
                    horizontal[(y * width + x) * channels + c] = sum
                }
            }
        }
        var out = image
        for y in 0..<height {
            for x in 0..<width {
                for c in 0..<channels {
                    var sum = 0.0
                    for k in 0..<size {
                        let sy = BorderMode.reflect101.source(y + k - half, height)!
                        sum += kernel[k] * horizontal[(sy * width + x) * channels + c]
                    }
                    out.pixels[(y * width + x) * channels + c] = UInt8(clamping: Int(sum.rounded(.toNearestOrEven)))
                }
            }
        }
        return out
    }

    /// Fills rectangles with `fill` (CoarseDropout).
    public static func fillRectangles(_ image: Image, _ rectangles: [(x: Int, y: Int, width: Int, height: Int)], fill: [UInt8]) -> Image {
        var out = image
        for rectangle in rectangles {
            for y in max(0, rectangle.y)..<min(image.height, rectangle.y + rectangle.height) {
                for x in max(0, rectangle.x)..<min(image.width, rectangle.x + rectangle.width) {
                    for c in 0..<image.channels { out[x, y, c] = fill[min(c, fill.count - 1)] }
                }
            }
        }
        return out
    }
}

/// uint8 → float32 `(value / 255 - mean) / std` per channel, HWC or CHW (albumentations'
/// Normalize with `max_pixel_value` 255).
public enum Normalize {
    public enum Layout: String, Sendable { case hwc = "HWC", chw = "CHW" }

    public static func apply(_ image: Image, mean: [Double], std: [Double], layout: Layout,
                             into output: UnsafeMutablePointer<Float>) {
        let channels = image.channels, plane = image.width * image.height
        let scale = (0..<channels).map { Float(1 / (255 * std[min($0, std.count - 1)])) }
        let offset = (0..<channels).map { Float(-mean[min($0, mean.count - 1)] / std[min($0, std.count - 1)]) }
        image.pixels.withUnsafeBufferPointer { pixels in
            for index in 0..<plane {
                for c in 0..<channels {
                    let value = Float(pixels[index * channels + c]) * scale[c] + offset[c]
                    output[layout == .hwc ? index * channels + c : c * plane + index] = value
                }
            }
        }
    }
}

#if canImport(Glibc)
import Glibc
#endif
