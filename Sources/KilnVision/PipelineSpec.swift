import KilnCore

/// Reading transforms from JSON, with albumentations' names and defaults.
extension Pipeline {
    static let names = ["HorizontalFlip", "VerticalFlip", "Rotate", "Affine", "RandomResizedCrop", "Resize", "CenterCrop",
                        "RandomCrop", "PadIfNeeded", "RandomBrightnessContrast", "HueSaturationValue", "ToGray", "GaussNoise",
                        "GaussianBlur", "CoarseDropout", "Normalize", "Compose", "OneOf", "SomeOf"]

    static func parse(_ value: JSONValue, path: String) throws -> any Augmentation {
        var spec = try SpecObject(value, path: path)
        let name = try spec.requiredString("name")
        func p(_ defaultValue: Double) throws -> Double {
            let value = try spec.double("p") ?? defaultValue
            guard (0...1).contains(value) else { throw spec.error("p", "a probability is 0...1, got \(value)") }
            return value
        }
        let step: any Augmentation
        switch name {
        case "HorizontalFlip", "VerticalFlip":
            step = Flip(name: name, probability: try p(0.5), horizontal: name == "HorizontalFlip")
        case "Rotate":
            step = AffineTransform(name: name, probability: try p(0.5), rotate: try range(&spec, "limit", default: 90, symmetric: true),
                                   scale: ParameterRange(low: 1, high: 1), translateX: ParameterRange(low: 0, high: 0), translateY: ParameterRange(low: 0, high: 0),
                                   shearX: ParameterRange(low: 0, high: 0), shearY: ParameterRange(low: 0, high: 0),
                                   interpolation: try interpolation(&spec), border: try border(&spec, default: .constant), fill: try fill(&spec))
        case "Affine":
            let translate = try range(&spec, "translate_percent", default: 0, symmetric: true)
            let shear = try range(&spec, "shear", default: 0, symmetric: true)
            step = AffineTransform(name: name, probability: try p(0.5), rotate: try range(&spec, "rotate", default: 0, symmetric: true),
                                   scale: try range(&spec, "scale", default: 1, symmetric: false), translateX: translate, translateY: translate,
                                   shearX: shear, shearY: ParameterRange(low: 0, high: 0),
                                   interpolation: try interpolation(&spec), border: try border(&spec, default: .constant), fill: try fill(&spec))
        case "Resize":
            step = ResizeTransform(probability: try p(1), width: try size(&spec, "width"), height: try size(&spec, "height"),
                                   interpolation: try interpolation(&spec))
        case "CenterCrop", "RandomCrop":
            step = CropTransform(name: name, probability: try p(1), width: try size(&spec, "width"), height: try size(&spec, "height"),
                                 random: name == "RandomCrop")
        case "RandomResizedCrop":
            var height = try spec.int("height", minimum: 1), width = try spec.int("width", minimum: 1)
            if let sizes = try spec.doubles("size") {
                guard sizes.count == 2, sizes.allSatisfy({ $0 >= 1 && $0 == $0.rounded() }) else {
                    throw spec.error("size", "is [height, width] in pixels")
                }
                (height, width) = (Int(sizes[0]), Int(sizes[1]))
            }
            guard let height, let width else { throw spec.error("size", "is required ([height, width], or height and width)") }
            let scale = try range(&spec, "scale", default: nil, symmetric: false, fallback: ParameterRange(low: 0.08, high: 1))
            let ratio = try range(&spec, "ratio", default: nil, symmetric: false, fallback: ParameterRange(low: 0.75, high: 4.0 / 3))
            guard scale.low > 0, scale.high <= 1 else { throw spec.error("scale", "is a range within (0, 1]") }
            guard ratio.low > 0 else { throw spec.error("ratio", "must be positive") }
            step = RandomResizedCrop(probability: try p(1), width: width, height: height, scale: scale, ratio: ratio,
                                     interpolation: try interpolation(&spec))
        case "PadIfNeeded":
            step = PadIfNeeded(probability: try p(1), minWidth: try size(&spec, "min_width"), minHeight: try size(&spec, "min_height"),
                               border: try border(&spec, default: .constant), fill: try fill(&spec))
        case "RandomBrightnessContrast":
            step = BrightnessContrast(probability: try p(0.5), brightness: try range(&spec, "brightness_limit", default: 0.2, symmetric: true),
                                      contrast: try range(&spec, "contrast_limit", default: 0.2, symmetric: true))
        case "HueSaturationValue":
            step = HueSaturationValue(probability: try p(0.5), hue: try range(&spec, "hue_shift_limit", default: 20, symmetric: true),
                                      saturation: try range(&spec, "sat_shift_limit", default: 30, symmetric: true),
                                      value: try range(&spec, "val_shift_limit", default: 20, symmetric: true))
        case "ToGray":
            step = ToGray(probability: try p(0.5))
        case "GaussNoise":
            let std = try range(&spec, "std_range", default: nil, symmetric: false, fallback: ParameterRange(low: 0.2, high: 0.44))
            guard std.low >= 0, std.high <= 1 else { throw spec.error("std_range", "is a fraction of 255 within [0, 1]") }
            step = GaussNoise(probability: try p(0.5), std: std)
        case "GaussianBlur":
            let sigma = try range(&spec, "sigma_limit", default: nil, symmetric: false, fallback: ParameterRange(low: 0.5, high: 3))
            guard sigma.low > 0, sigma.high <= Color.maximumBlurSigma else {
                throw spec.error("sigma_limit", "must be in (0, \(Int(Color.maximumBlurSigma))]")
            }
            step = GaussianBlur(probability: try p(0.5), sigma: sigma)
        case "CoarseDropout":
            let holes = try range(&spec, "num_holes_range", default: nil, symmetric: false, fallback: ParameterRange(low: 1, high: 1))
            guard holes.low >= 1, holes.low == holes.low.rounded(), holes.high == holes.high.rounded() else {
                throw spec.error("num_holes_range", "is a range of whole numbers from 1")
            }
            step = CoarseDropout(probability: try p(0.5), holes: Int(holes.low)...Int(holes.high),
                                 holeHeight: try range(&spec, "hole_height_range", default: nil, symmetric: false, fallback: ParameterRange(low: 0.1, high: 0.2)),
                                 holeWidth: try range(&spec, "hole_width_range", default: nil, symmetric: false, fallback: ParameterRange(low: 0.1, high: 0.2)),
                                 fill: try fill(&spec))
        case "Normalize":
            _ = try p(1)
            let mean = try spec.doubles("mean") ?? [0.485, 0.456, 0.406]
            let std = try spec.doubles("std") ?? [0.229, 0.224, 0.225]
            guard !mean.isEmpty, mean.count == std.count else { throw spec.error("std", "needs as many values as mean") }
            guard std.allSatisfy({ $0 > 0 }) else { throw spec.error("std", "values must be positive") }
            if let maximum = try spec.double("max_pixel_value"), maximum != 255 {
                throw spec.error("max_pixel_value", "only 255 (uint8 images) is supported")
            }
            let layoutName = try spec.string("layout") ?? "HWC"
            guard let layout = Normalize.Layout(rawValue: layoutName.uppercased()) else { throw spec.error("layout", "is HWC or CHW, got '\(layoutName)'") }
            step = NormalizeMarker(step: Pipeline.NormalizeStep(mean: mean, std: std, layout: layout))
        case "Compose", "OneOf", "SomeOf":
            guard let list = spec.value("transforms")?.arrayValue, !list.isEmpty else {
                throw spec.error("transforms", "a non-empty list of transforms is required")
            }
            let children = try list.enumerated().map { try parse($1, path: "\(path).transforms[\($0)]") }
            if children.contains(where: { $0 is NormalizeMarker }) {
                throw spec.error("transforms", "Normalize belongs at the end of the top-level list")
            }
            let kind: Composition.Kind
            switch name {
            case "OneOf": kind = .oneOf
            case "SomeOf":
                let count = try spec.int("n", minimum: 1) ?? 1
                kind = .someOf(count: count, replace: try spec.bool("replace") ?? false)
            default: kind = .compose
            }
            step = Composition(name: name, probability: try p(name == "OneOf" ? 0.5 : 1), kind: kind, children: children)
        default:
            throw spec.error("name", "unknown transform '\(name)' (known: \(names.joined(separator: ", ")))")
        }
        try spec.rejectUnknownFields()
        return step
    }

    /// A range: `[a, b]` (a <= b), or one number `x`: `[-x, x]` when symmetric, else `[x, x]`.
    static func range(_ spec: inout SpecObject, _ field: String, default defaultValue: Double?, symmetric: Bool,
                      fallback: ParameterRange? = nil) throws -> ParameterRange {
        guard let value = spec.value(field) else {
            if let fallback { return fallback }
            let x = defaultValue ?? 0
            return symmetric ? ParameterRange(low: -abs(x), high: abs(x)) : ParameterRange(low: x, high: x)
        }
        if let number = value.doubleValue {
            guard number.isFinite else { throw spec.error(field, "must be finite") }
            return symmetric ? ParameterRange(low: -abs(number), high: abs(number)) : ParameterRange(low: number, high: number)
        }
        guard let pair = try spec.doubles(field), pair.count == 2, pair.allSatisfy(\.isFinite) else {
            throw spec.error(field, "is a number or a range [low, high]")
        }
        guard pair[0] <= pair[1] else { throw spec.error(field, "low (\(pair[0])) is above high (\(pair[1]))") }
        return ParameterRange(low: pair[0], high: pair[1])
    }

    static func size(_ spec: inout SpecObject, _ field: String) throws -> Int {
        guard let value = try spec.int(field, minimum: 1) else { throw spec.error(field, "is required (pixels)") }
        guard value <= 1 << 16 else { throw spec.error(field, "must be at most 65536") }
        return value
    }

    static func interpolation(_ spec: inout SpecObject) throws -> Interpolation {
        guard let name = try spec.string("interpolation") else { return .bilinear }
        return try Interpolation.parse(name, field: "\(spec.path).interpolation")
    }

    static func border(_ spec: inout SpecObject, default defaultMode: BorderMode) throws -> BorderMode {
        guard let name = try spec.string("border_mode") else { return defaultMode }
        return try BorderMode.parse(name, field: "\(spec.path).border_mode")
    }

    /// `fill`: one value for every channel or one per channel, 0...255.
    static func fill(_ spec: inout SpecObject) throws -> [UInt8] {
        guard let value = spec.value("fill") else { return [0] }
        let values = try value.doubleValue.map { [$0] } ?? spec.doubles("fill") ?? [0]
        guard !values.isEmpty, values.allSatisfy({ (0...255).contains($0) }) else { throw spec.error("fill", "values are 0...255") }
        return values.map { UInt8($0.rounded()) }
    }
}
