import KilnCore

/// What one transform did to one sample: replay mode returns these.
public struct AppliedTransform: Sendable, Equatable {
    public var name: String
    public var applied: Bool
    /// The sampled parameters, in the order they were drawn.
    public var parameters: [Parameter]

    public struct Parameter: Sendable, Equatable {
        public var name: String
        public var value: Double
    }

    public var json: JSONValue {
        .object([("name", .string(name)), ("applied", .bool(applied)),
                 ("parameters", .object(parameters.map { ($0.name, .double($0.value)) }))])
    }
}

/// One step of a pipeline. `apply` draws its random numbers from the sample's stream only, so
/// a sample's output depends on (seed, index) alone.
protocol Augmentation: Sendable {
    var name: String { get }
    var probability: Double { get }
    func transform(_ image: Image, _ random: inout PhiloxStream, _ parameters: inout [AppliedTransform.Parameter]) throws -> Image
}

extension Augmentation {
    /// Draws whether to apply (always one draw, so later draws do not depend on the outcome),
    /// then the parameters.
    func apply(_ image: Image, _ random: inout PhiloxStream, _ replay: inout [AppliedTransform], forced: Bool = false) throws -> Image {
        let draw = random.nextUnitDouble()
        guard forced || draw < probability else {
            replay.append(AppliedTransform(name: name, applied: false, parameters: []))
            return image
        }
        var parameters: [AppliedTransform.Parameter] = []
        let position = replay.count
        replay.append(AppliedTransform(name: name, applied: true, parameters: []))
        let result = try transform(image, &random, &parameters)
        replay[position].parameters = parameters
        return result
    }
}

/// A closed range of a parameter, sampled uniformly.
struct ParameterRange: Sendable, Equatable {
    var low: Double
    var high: Double

    func sample(_ random: inout PhiloxStream) -> Double {
        low == high ? low : low + (high - low) * random.nextUnitDouble()
    }
}

extension PhiloxStream {
    /// Uniform integer in `range`.
    mutating func nextInt(in range: ClosedRange<Int>) -> Int {
        range.lowerBound + Int(nextUnitDouble() * Double(range.count)).clamped(0, range.count - 1)
    }
}

extension Comparable {
    func clamped(_ low: Self, _ high: Self) -> Self { min(max(self, low), high) }
}

// MARK: - Geometric

struct Flip: Augmentation {
    let name: String
    let probability: Double
    let horizontal: Bool

    func transform(_ image: Image, _ random: inout PhiloxStream, _ parameters: inout [AppliedTransform.Parameter]) throws -> Image {
        horizontal ? Geometry.flipHorizontal(image) : Geometry.flipVertical(image)
    }
}

/// Rotate and Affine: an affine map about the image centre ((W-1)/2, (H-1)/2), sampled per sample.
struct AffineTransform: Augmentation {
    let name: String
    let probability: Double
    let rotate: ParameterRange
    let scale: ParameterRange
    let translateX: ParameterRange
    let translateY: ParameterRange
    let shearX: ParameterRange
    let shearY: ParameterRange
    let interpolation: Interpolation
    let border: BorderMode
    let fill: [UInt8]

    func transform(_ image: Image, _ random: inout PhiloxStream, _ parameters: inout [AppliedTransform.Parameter]) throws -> Image {
        let angle = rotate.sample(&random)
        parameters.append(.init(name: "angle", value: angle))
        var matrix = AffineMatrix.rotation(degrees: angle, centerX: Double(image.width - 1) / 2, centerY: Double(image.height - 1) / 2)
        if name == "Affine" {
            let factor = scale.sample(&random)
            let dx = translateX.sample(&random) * Double(image.width), dy = translateY.sample(&random) * Double(image.height)
            let sx = shearX.sample(&random), sy = shearY.sample(&random)
            parameters += [.init(name: "scale", value: factor), .init(name: "translate_x", value: dx),
                           .init(name: "translate_y", value: dy), .init(name: "shear_x", value: sx), .init(name: "shear_y", value: sy)]
            let cx = Double(image.width - 1) / 2, cy = Double(image.height - 1) / 2
            // x -> T(c + t) R Sh S T(-c) x
            let toOrigin = AffineMatrix(1, 0, -cx, 0, 1, -cy)
            let scaling = AffineMatrix(factor, 0, 0, 0, factor, 0)
            let shear = AffineMatrix(1, tan(sx * .pi / 180), 0, tan(sy * .pi / 180), 1, 0)
            let turn = AffineMatrix.rotation(degrees: angle, centerX: 0, centerY: 0)
            let back = AffineMatrix(1, 0, cx + dx, 0, 1, cy + dy)
            matrix = back.concatenating(turn).concatenating(shear).concatenating(scaling).concatenating(toOrigin)
        }
        return try Warp.affine(image, matrix: matrix, interpolation: interpolation, border: border, fill: fill)
    }
}

struct ResizeTransform: Augmentation {
    let name = "Resize"
    let probability: Double
    let width: Int
    let height: Int
    let interpolation: Interpolation

    func transform(_ image: Image, _ random: inout PhiloxStream, _ parameters: inout [AppliedTransform.Parameter]) throws -> Image {
        try Resize.resize(image, width: width, height: height, interpolation: interpolation)
    }
}

struct CropTransform: Augmentation {
    let name: String
    let probability: Double
    let width: Int
    let height: Int
    let random: Bool

    func transform(_ image: Image, _ stream: inout PhiloxStream, _ parameters: inout [AppliedTransform.Parameter]) throws -> Image {
        guard width <= image.width, height <= image.height else {
            throw KilnError.invalidArgument("\(name): a crop of \(height)×\(width) is larger than the image (\(image.height)×\(image.width))")
        }
        let x = random ? stream.nextInt(in: 0...(image.width - width)) : (image.width - width) / 2
        let y = random ? stream.nextInt(in: 0...(image.height - height)) : (image.height - height) / 2
        parameters += [.init(name: "x", value: Double(x)), .init(name: "y", value: Double(y))]
        return try Geometry.crop(image, x: x, y: y, width: width, height: height)
    }
}

/// torchvision's and albumentations' RandomResizedCrop: up to 10 tries at a crop of a random
/// area fraction and log-uniform aspect ratio, else the centre crop of the clamped ratio.
struct RandomResizedCrop: Augmentation {
    let name = "RandomResizedCrop"
    let probability: Double
    let width: Int
    let height: Int
    let scale: ParameterRange
    let ratio: ParameterRange
    let interpolation: Interpolation

    /// The crop window for an image of this size, drawn from the sample's stream.
    func window(width imageWidth: Int, height imageHeight: Int, _ random: inout PhiloxStream) -> (x: Int, y: Int, width: Int, height: Int) {
        let area = Double(imageWidth * imageHeight)
        for _ in 0..<10 {
            let target = area * scale.sample(&random)
            let logRatio = log(ratio.low) + (log(ratio.high) - log(ratio.low)) * random.nextUnitDouble()
            let aspect = exp(logRatio)
            let w = Int((target * aspect).squareRoot().rounded(.toNearestOrEven))
            let h = Int((target / aspect).squareRoot().rounded(.toNearestOrEven))
            if w > 0, h > 0, w <= imageWidth, h <= imageHeight {
                return (random.nextInt(in: 0...(imageWidth - w)), random.nextInt(in: 0...(imageHeight - h)), w, h)
            }
        }
        let inRatio = Double(imageWidth) / Double(imageHeight)
        var w = imageWidth, h = imageHeight
        if inRatio < ratio.low { h = Int((Double(w) / ratio.low).rounded(.toNearestOrEven)) }
        else if inRatio > ratio.high { w = Int((Double(h) * ratio.high).rounded(.toNearestOrEven)) }
        return ((imageWidth - w) / 2, (imageHeight - h) / 2, w, h)
    }

    func transform(_ image: Image, _ random: inout PhiloxStream, _ parameters: inout [AppliedTransform.Parameter]) throws -> Image {
        let chosen = window(width: image.width, height: image.height, &random)
        parameters += [.init(name: "x", value: Double(chosen.x)), .init(name: "y", value: Double(chosen.y)),
                       .init(name: "width", value: Double(chosen.width)), .init(name: "height", value: Double(chosen.height))]
        return try Resize.cropResize(image, x: chosen.x, y: chosen.y, cropWidth: chosen.width, cropHeight: chosen.height,
                                     width: width, height: height, interpolation: interpolation)
    }
}

struct PadIfNeeded: Augmentation {
    let name = "PadIfNeeded"
    let probability: Double
    let minWidth: Int
    let minHeight: Int
    let border: BorderMode
    let fill: [UInt8]

    func transform(_ image: Image, _ random: inout PhiloxStream, _ parameters: inout [AppliedTransform.Parameter]) throws -> Image {
        let padX = max(0, minWidth - image.width), padY = max(0, minHeight - image.height)
        guard padX > 0 || padY > 0 else { return image }
        return try Geometry.pad(image, top: padY / 2, bottom: padY - padY / 2, left: padX / 2, right: padX - padX / 2,
                                border: border, fill: (0..<image.channels).map { fill[min($0, fill.count - 1)] })
    }
}

// MARK: - Colour and noise

struct BrightnessContrast: Augmentation {
    let name = "RandomBrightnessContrast"
    let probability: Double
    let brightness: ParameterRange
    let contrast: ParameterRange

    func transform(_ image: Image, _ random: inout PhiloxStream, _ parameters: inout [AppliedTransform.Parameter]) throws -> Image {
        let b = brightness.sample(&random), c = contrast.sample(&random)
        parameters += [.init(name: "brightness", value: b), .init(name: "contrast", value: c)]
        return Color.brightnessContrast(image, brightness: b, contrast: c)
    }
}

struct HueSaturationValue: Augmentation {
    let name = "HueSaturationValue"
    let probability: Double
    let hue: ParameterRange
    let saturation: ParameterRange
    let value: ParameterRange

    func transform(_ image: Image, _ random: inout PhiloxStream, _ parameters: inout [AppliedTransform.Parameter]) throws -> Image {
        let h = hue.sample(&random), s = saturation.sample(&random), v = value.sample(&random)
        parameters += [.init(name: "hue_shift", value: h), .init(name: "sat_shift", value: s), .init(name: "val_shift", value: v)]
        return Color.hueSaturationValue(image, hueShift: h, saturationShift: s, valueShift: v)
    }
}

struct ToGray: Augmentation {
    let name = "ToGray"
    let probability: Double

    func transform(_ image: Image, _ random: inout PhiloxStream, _ parameters: inout [AppliedTransform.Parameter]) throws -> Image {
        Color.toGray(image)
    }
}

struct GaussNoise: Augmentation {
    let name = "GaussNoise"
    let probability: Double
    let std: ParameterRange

    func transform(_ image: Image, _ random: inout PhiloxStream, _ parameters: inout [AppliedTransform.Parameter]) throws -> Image {
        let sigma = std.sample(&random)
        parameters.append(.init(name: "std", value: sigma))
        return Color.gaussNoise(image, std: sigma, random: &random)
    }
}

struct GaussianBlur: Augmentation {
    let name = "GaussianBlur"
    let probability: Double
    let sigma: ParameterRange

    func transform(_ image: Image, _ random: inout PhiloxStream, _ parameters: inout [AppliedTransform.Parameter]) throws -> Image {
        let value = sigma.sample(&random)
        parameters.append(.init(name: "sigma", value: value))
        return try Color.gaussianBlur(image, sigma: value)
    }
}

/// Rectangles of `fill`; sizes below 1 are fractions of the image side, else pixels.
struct CoarseDropout: Augmentation {
    let name = "CoarseDropout"
    let probability: Double
    let holes: ClosedRange<Int>
    let holeHeight: ParameterRange
    let holeWidth: ParameterRange
    let fill: [UInt8]

    func transform(_ image: Image, _ random: inout PhiloxStream, _ parameters: inout [AppliedTransform.Parameter]) throws -> Image {
        let count = random.nextInt(in: holes)
        parameters.append(.init(name: "holes", value: Double(count)))
        var rectangles: [(x: Int, y: Int, width: Int, height: Int)] = []
        for _ in 0..<count {
            let h = holeHeight.sample(&random), w = holeWidth.sample(&random)
            let height = max(1, min(image.height, Int(h < 1 ? h * Double(image.height) : h)))
            let width = max(1, min(image.width, Int(w < 1 ? w * Double(image.width) : w)))
            let x = random.nextInt(in: 0...(image.width - width)), y = random.nextInt(in: 0...(image.height - height))
            rectangles.append((x, y, width, height))
        }
        return Color.fillRectangles(image, rectangles, fill: fill)
    }
}

// MARK: - Composition

/// OneOf: one child, chosen with weights proportional to the children's `p`.
/// SomeOf: `n` distinct children (or with replacement), in their order; each chosen child is applied.
/// Compose: every child, each with its own `p`.
struct Composition: Augmentation {
    enum Kind: Sendable { case compose, oneOf, someOf(count: Int, replace: Bool) }

    let name: String
    let probability: Double
    let kind: Kind
    let children: [any Augmentation]

    func transform(_ image: Image, _ random: inout PhiloxStream, _ parameters: inout [AppliedTransform.Parameter]) throws -> Image {
        throw KilnError(.internalError, "\(name) is applied by Pipeline.apply")
    }

    func run(_ image: Image, _ random: inout PhiloxStream, _ replay: inout [AppliedTransform]) throws -> Image {
        var image = image
        switch kind {
        case .compose:
            for child in children { image = try Pipeline.apply(child, image, &random, &replay) }
        case .oneOf:
            let weights = children.map(\.probability)
            let total = weights.reduce(0, +)
            let draw = random.nextUnitDouble() * total
            var cumulative = 0.0
            var chosen = children.count - 1
            for (index, weight) in weights.enumerated() {
                cumulative += weight
                if draw < cumulative { chosen = index; break }
            }
            image = try Pipeline.apply(children[chosen], image, &random, &replay, forced: true)
        case .someOf(let count, let replace):
            var pool = Array(children.indices)
            var chosen: [Int] = []
            for _ in 0..<min(count, replace ? count : children.count) {
                let pick = random.nextInt(in: 0...(pool.count - 1))
                chosen.append(pool[pick])
                if !replace { pool.remove(at: pick) }
            }
            for index in (replace ? chosen : chosen.sorted()) {
                image = try Pipeline.apply(children[index], image, &random, &replay, forced: true)
            }
        }
        return image
    }
}

#if canImport(Glibc)
import Glibc
#endif
