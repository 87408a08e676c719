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
        // RGB and RGBA sources of fewer than 2^31 bytes take the vectorised bilinear interior.
        let vectorised = interpolation == .bilinear && (channels == 3 || channels == 4) && image.pixels.count < Int(Int32.max) - 64
        image.pixels.withUnsafeBufferPointer { source in
            out.pixels.withUnsafeMutableBufferPointer { target in
                /// One destination pixel, any interpolation, border and channel count.
                func pixel(x: Int, y: Int, to: Int) {
                    let sourceX = inverse.a * Double(x) + (inverse.b * Double(y) + inverse.c)
                    let sourceY = inverse.d * Double(x) + (inverse.e * Double(y) + inverse.f)
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
                        return
                    }
                    let floorX = sourceX.rounded(.down), floorY = sourceY.rounded(.down)
                    let ax = sourceX - floorX, ay = sourceY - floorY
                    let sx = Int(floorX), sy = Int(floorY)
                    let w00 = (1 - ax) * (1 - ay), w01 = ax * (1 - ay), w10 = (1 - ax) * ay, w11 = ax * ay
                    if sx >= 0, sy >= 0, sx + 1 < sourceWidth, sy + 1 < sourceHeight {
                        let from = (sy * sourceWidth + sx) * channels, below = from + sourceWidth * channels
                        for c in 0..<channels {
                            let sum = Float(source[from + c]) * Float(w00) + Float(source[from + channels + c]) * Float(w01)
                                + Float(source[below + c]) * Float(w10) + Float(source[below + channels + c]) * Float(w11)
                            target[to + c] = Color.roundedByte(sum)
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
                guard vectorised else {
                    for y in 0..<height {
                        for x in 0..<width { pixel(x: x, y: y, to: (y * width + x) * channels) }
                    }
                    return
                }
                interior(source: source.baseAddress!, sourceWidth: sourceWidth, sourceHeight: sourceHeight,
                         channels: channels, inverse: inverse, width: width, height: height, target: target.baseAddress!,
                         fill: border == .constant ? fillValues.map { UInt8($0) } : nil, otherwise: pixel)
            }
        }
        return out
    }

    /// Bilinear RGB or RGBA, 16 destination pixels at a time: their source coordinates in float32
    /// SIMD, then per pixel a blend of the four taps read four bytes at a time (left and right
    /// blended across, then the two rows down). Pixels whose taps leave the source — or whose
    /// four-byte reads would leave the buffer — go to `otherwise`, except those wholly outside
    /// a constant border, which take `fill`.
    private static func interior(source: UnsafePointer<UInt8>, sourceWidth: Int, sourceHeight: Int, channels: Int,
                                 inverse: AffineMatrix, width: Int, height: Int, target: UnsafeMutablePointer<UInt8>,
                                 fill: [UInt8]?, otherwise: (_ x: Int, _ y: Int, _ to: Int) -> Void) {
        typealias Lanes = SIMD16<Float>
        let rowBytes = sourceWidth &* channels
        // The last offset whose bottom-right four-byte read stays inside the buffer.
        let lastOffset = SIMD16<Int32>(repeating: Int32(sourceHeight &* rowBytes &- rowBytes &- channels &- 4))
        let a = Lanes(repeating: Float(inverse.a)), d = Lanes(repeating: Float(inverse.d))
        let ramp = Lanes(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15)
        let rampIntegers = SIMD16<Int32>(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15)
        let maxX = SIMD16<Int32>(repeating: Int32(sourceWidth - 2)), maxY = SIMD16<Int32>(repeating: Int32(sourceHeight - 2))
        let one = SIMD16<Int32>(repeating: 1)
        // A row's per-pixel values, computed 16 at a time, then read back pixel by pixel.
        let padded = (width &+ 15) & ~15
        let offsets = UnsafeMutablePointer<Int32>.allocate(capacity: padded), kinds = UnsafeMutablePointer<Int32>.allocate(capacity: padded)
        let fractionsX = UnsafeMutablePointer<Float>.allocate(capacity: padded), fractionsY = UnsafeMutablePointer<Float>.allocate(capacity: padded)
        defer { offsets.deallocate(); kinds.deallocate(); fractionsX.deallocate(); fractionsY.deallocate() }
        let (inside, outside): (Int32, Int32) = (1, 2)
        let fillPixel: SIMD4<UInt8>? = fill.map { values in SIMD4(values[0], values[1], values[2], channels == 4 ? values[3] : 0) }
        // Coordinates beyond this go pixel by pixel (the float tricks below need magnitudes below 2^22).
        let coordinateLimit = Double(1 << 21)
        for y in 0..<height {
            let rowXValue = inverse.b * Double(y) + inverse.c, rowYValue = inverse.e * Double(y) + inverse.f
            let rowX = Lanes(repeating: Float(rowXValue)), rowY = Lanes(repeating: Float(rowYValue))
            // RGB stores four bytes per pixel, the fourth overwritten by the next pixel: not the image's last.
            let lastInside = SIMD16<Int32>(repeating: Int32(y == height - 1 && channels == 3 ? width - 2 : width - 1))
            for block in stride(from: 0, to: width, by: 16) {
                // Affine in x: the block's extreme coordinates are at its ends.
                let first = Double(block), last = Double(block + 15)
                guard abs(inverse.a * first + rowXValue) < coordinateLimit, abs(inverse.a * last + rowXValue) < coordinateLimit,
                      abs(inverse.d * first + rowYValue) < coordinateLimit, abs(inverse.d * last + rowYValue) < coordinateLimit else {
                    UnsafeMutableRawPointer(kinds + block).storeBytes(of: SIMD16<Int32>(), as: SIMD16<Int32>.self)
                    continue
                }
                let xs = ramp + Lanes(repeating: Float(block))
                let (ix, ax) = rowX.addingProduct(xs, a).floorAndFraction, (iy, ay) = rowY.addingProduct(xs, d).floorAndFraction
                UnsafeMutableRawPointer(fractionsX + block).storeBytes(of: ax, as: Lanes.self)
                UnsafeMutableRawPointer(fractionsY + block).storeBytes(of: ay, as: Lanes.self)
                let offset = (iy &* Int32(sourceWidth) &+ ix) &* Int32(channels)
                UnsafeMutableRawPointer(offsets + block).storeBytes(of: offset, as: SIMD16<Int32>.self)
                // Sign bits (comparisons of SIMD floats do not vectorise): negative where a bound is broken.
                let broken = ix | iy | (maxX &- ix) | (maxY &- iy) | (lastOffset &- offset)
                    | (lastInside &- (rampIntegers &+ Int32(block)))
                let insideBit = ((broken &>> 31) & one) ^ one
                // Wholly outside: even the right or lower tap is off the source.
                let awayBit = (((ix &+ one) | (iy &+ one) | (maxX &+ one &- ix) | (maxY &+ one &- iy)) &>> 31) & one
                UnsafeMutableRawPointer(kinds + block).storeBytes(of: insideBit | ((awayBit & (insideBit ^ one)) &<< 1), as: SIMD16<Int32>.self)
            }
            let row = target + y &* width &* channels
            for x in 0..<width {
                let kind = kinds[x], to = x &* channels
                if kind == inside {
                    let tap = source + Int(offsets[x])
                    @inline(__always) func load(_ at: UnsafePointer<UInt8>) -> SIMD4<Float> {
                        SIMD4<Float>(SIMD4<Int32>(truncatingIfNeeded: UnsafeRawPointer(at).loadUnaligned(as: SIMD4<UInt8>.self)))
                    }
                    let ax = SIMD4<Float>(repeating: fractionsX[x]), ay = SIMD4<Float>(repeating: fractionsY[x])
                    let left = load(tap), right = load(tap + channels)
                    let lowerLeft = load(tap + rowBytes), lowerRight = load(tap + (rowBytes &+ channels))
                    let top = left.addingProduct(right - left, ax), bottom = lowerLeft.addingProduct(lowerRight - lowerLeft, ax)
                    let value = top.addingProduct(bottom - top, ay)
                    // Rounded half to even as Color.roundedByte: 1.5 · 2^23 added puts the integer in the low bits.
                    let rounded = clamp(value, .zero, SIMD4(repeating: 255)) + SIMD4(repeating: 12_582_912)
                    let bytes = SIMD4<UInt8>(truncatingIfNeeded: unsafeBitCast(rounded, to: SIMD4<UInt32>.self))
                    UnsafeMutableRawPointer(row + to).storeBytes(of: bytes, as: SIMD4<UInt8>.self)
                } else if kind == outside, let fillPixel {
                    for c in 0..<channels { row[to &+ c] = fillPixel[c] }
                } else {
                    otherwise(x, y, (y &* width &+ x) &* channels)
                }
            }
        }
    }

    // Plain comparisons and selects: the generic `clamped` of SIMD types does not inline here and
    // ran element by element.
    @inline(__always)
    private static func clamp<V: SIMD>(_ value: V, _ low: V, _ high: V) -> V where V.Scalar: FloatingPoint {
        let raised = value.replacing(with: low, where: value .< low)
        return raised.replacing(with: high, where: raised .> high)
    }
}

#if canImport(Glibc)
import Glibc
#endif
