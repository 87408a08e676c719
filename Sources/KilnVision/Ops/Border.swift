import KilnCore

/// What lies outside an image, with OpenCV's names and conventions (`borderInterpolate`).
public enum BorderMode: String, Sendable, CaseIterable {
    /// A fixed value.
    case constant
    /// Mirrored with the edge pixel repeated: `fedcba|abcdef|fedcba` (`cv2.BORDER_REFLECT`).
    case reflect
    /// Mirrored about the edge pixel: `fedcb|abcdef|edcba` (`cv2.BORDER_REFLECT_101`, OpenCV's default).
    case reflect101 = "reflect_101"
    /// The edge pixel repeated: `aaaaaa|abcdef|ffffff` (`cv2.BORDER_REPLICATE`).
    case replicate

    public static func parse(_ name: String, field: String) throws -> BorderMode {
        guard let mode = BorderMode(rawValue: name) else {
            throw KilnError.invalidArgument("\(field): '\(name)' is not a border mode (\(allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        return mode
    }

    /// The source index for `index` in `0..<count`, or nil for a constant border.
    @inline(__always)
    func source(_ index: Int, _ count: Int) -> Int? {
        if index >= 0 && index < count { return index }
        switch self {
        case .constant: return nil
        case .replicate: return index < 0 ? 0 : count - 1
        case .reflect, .reflect101:
            // cv2.borderInterpolate reflects again and again; the reflections repeat with a period
            // of 2n (reflect) or 2(n - 1) (reflect-101), so one remainder does it for any index.
            if count == 1 { return 0 }
            let period = self == .reflect ? 2 * count : 2 * (count - 1)
            let position = (index % period + period) % period
            guard position >= count else { return position }
            return self == .reflect ? period - 1 - position : period - position
        }
    }
}

/// How pixels are sampled between grid points.
public enum Interpolation: String, Sendable, CaseIterable {
    case nearest, bilinear, area

    public static func parse(_ name: String, field: String) throws -> Interpolation {
        switch name {
        case "nearest", "inter_nearest": return .nearest
        case "bilinear", "linear", "inter_linear": return .bilinear
        case "area", "inter_area": return .area
        default:
            throw KilnError.invalidArgument("\(field): '\(name)' is not an interpolation (nearest, bilinear, area)")
        }
    }
}
