import KilnCore

/// A 2×3 affine map of pixel coordinates, `[a b c; d e f]`: (x, y) → (a x + b y + c, d x + e y + f).
public struct AffineMatrix: Sendable, Equatable {
    public var a, b, c, d, e, f: Double

    public init(_ a: Double, _ b: Double, _ c: Double, _ d: Double, _ e: Double, _ f: Double) {
        (self.a, self.b, self.c, self.d, self.e, self.f) = (a, b, c, d, e, f)
    }

    public static let identity = AffineMatrix(1, 0, 0, 0, 1, 0)

    /// `cv2.getRotationMatrix2D(center, degrees, scale)`: counter-clockwise for positive angles.
    public static func rotation(degrees: Double, centerX: Double, centerY: Double, scale: Double = 1) -> AffineMatrix {
        let radians = degrees * .pi / 180
        let alpha = cos(radians) * scale, beta = sin(radians) * scale
        return AffineMatrix(alpha, beta, (1 - alpha) * centerX - beta * centerY,
                            -beta, alpha, beta * centerX + (1 - alpha) * centerY)
    }

    /// self after other: x → self(other(x)).
    public func concatenating(_ other: AffineMatrix) -> AffineMatrix {
        AffineMatrix(a * other.a + b * other.d, a * other.b + b * other.e, a * other.c + b * other.f + c,
                     d * other.a + e * other.d, d * other.b + e * other.e, d * other.c + e * other.f + f)
    }

    /// `cv2.invertAffineTransform`.
    public func inverted() throws -> AffineMatrix {
        let determinant = a * e - b * d
        guard determinant != 0, determinant.isFinite else { throw KilnError.invalidArgument("the affine map is not invertible") }
        let scale = 1 / determinant
        let ia = e * scale, ib = -b * scale, id = -d * scale, ie = a * scale
        return AffineMatrix(ia, ib, -ia * c - ib * f, id, ie, -id * c - ie * f)
    }
}

/// `cv2.warpAffine` (OpenCV 5): each destination pixel samples the source at the inverse map
/// of its coordinates; bilinear blends the four taps with exact weights and rounds, nearest takes
/// the closest pixel; taps outside take the border's value (a constant border is blended in as a tap).
public enum Warp {
    public static func affine(_ image: Image, matrix: AffineMatrix, width: Int? = nil, height: Int? = nil,
                              interpolation: Interpolation = .bilinear, border: BorderMode = .constant,
                              fill: [UInt8]) throws -> Image {
        let width = width ?? image.width, height = height ?? image.height
        var out = try Image(width: width, height: height, channels: image.channels)
        let inverse = try matrix.inverted()
        let channels = image.channels
        let sourceWidth = image.width, sourceHeight = image.height
        let fillValues = (0..<channels).map { Double(fill[$0 < fill.count ? $0 : fill.count - 1]) }
        image.pixels.withUnsafeBufferPointer { source in
            out.pixels.withUnsafeMutableBufferPointer { target in
                for y in 0..<height {
                    let rowX = inverse.b * Double(y) + inverse.c
                    let rowY = inverse.e * Double(y) + inverse.f
                    var to = y * width * channels
                    for x in 0..<width {
                        defer { to += channels }
                        let sourceX = inverse.a * Double(x) + rowX, sourceY = inverse.d * Double(x) + rowY
                        if interpolation == .nearest {
                            // In float32, as OpenCV computes nearest coordinates (ties then round alike).
                            let fx = Float(inverse.a) * Float(x) + (Float(inverse.b) * Float(y) + Float(inverse.c))
                            let fy = Float(inverse.d) * Float(x) + (Float(inverse.e) * Float(y) + Float(inverse.f))
                            let sx = Int(fx.rounded(.toNearestOrEven)), sy = Int(fy.rounded(.toNearestOrEven))
                            if let px = border.source(sx, sourceWidth), let py = border.source(sy, sourceHeight) {
                                let from = (py * sourceWidth + px) * channels
                                for c in 0..<channels { target[to + c] = source[from + c] }
                            } else {
                                for c in 0..<channels { target[to + c] = UInt8(fillValues[c]) }
                            }
                            continue
                        }
                        let floorX = sourceX.rounded(.down), floorY = sourceY.rounded(.down)
                        let ax = sourceX - floorX, ay = sourceY - floorY
                        let sx = Int(floorX), sy = Int(floorY)
                        let w00 = (1 - ax) * (1 - ay), w01 = ax * (1 - ay), w10 = (1 - ax) * ay, w11 = ax * ay
                        if sx >= 0, sy >= 0, sx + 1 < sourceWidth, sy + 1 < sourceHeight {
                            // Inside: wrapping index arithmetic, float32 blends, RGB unrolled.
                            let from = source.baseAddress! + (sy &* sourceWidth &+ sx) &* channels
                            let below = from + sourceWidth &* channels, pixel = target.baseAddress! + to
                            let weights = (Float(w00), Float(w01), Float(w10), Float(w11))
                            @inline(__always) func blend(_ c: Int) -> UInt8 {
                                Color.roundedByte(Float(from[c]) * weights.0 + Float(from[channels &+ c]) * weights.1
                                    + Float(below[c]) * weights.2 + Float(below[channels &+ c]) * weights.3)
                            }
                            if channels == 3 {
                                (pixel[0], pixel[1], pixel[2]) = (blend(0), blend(1), blend(2))
                            } else {
                                for c in 0..<channels { pixel[c] = blend(c) }
                            }
                        } else if border == .constant && (sx >= sourceWidth || sx + 1 < 0 || sy >= sourceHeight || sy + 1 < 0) {
                            for c in 0..<channels { target[to + c] = UInt8(fillValues[c]) }
                        } else {
                            let x0 = border.source(sx, sourceWidth), x1 = border.source(sx + 1, sourceWidth)
                            let y0 = border.source(sy, sourceHeight), y1 = border.source(sy + 1, sourceHeight)
                            for c in 0..<channels {
                                func tap(_ px: Int?, _ py: Int?) -> Double {
                                    guard let px, let py else { return fillValues[c] }
                                    return Double(source[(py * sourceWidth + px) * channels + c])
                                }
                                let sum = tap(x0, y0) * w00 + tap(x1, y0) * w01 + tap(x0, y1) * w10 + tap(x1, y1) * w11
                                target[to + c] = UInt8(clamping: Int(sum.rounded(.toNearestOrEven)))
                            }
                        }
                    }
                }
            }
        }
        return out
    }
}

#if canImport(Glibc)
import Glibc
#endif
