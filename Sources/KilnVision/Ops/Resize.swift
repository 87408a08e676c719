import KilnCore

/// Resizing with OpenCV's sampling conventions (`cv2.resize`): bilinear maps destination x to
/// source `(x + 0.5) * src/dst - 0.5`, clamps at the edges and uses 11-bit fixed-point weights;
/// nearest takes `floor(x * src/dst)`; area averages the source pixels each destination pixel
/// covers (for shrinking; enlarging with area is bilinear).
public enum Resize {
    public static func resize(_ image: Image, width: Int, height: Int, interpolation: Interpolation = .bilinear) throws -> Image {
        guard width >= 1, height >= 1, width <= 1 << 16, height <= 1 << 16 else {
            throw KilnError.invalidArgument("resize to \(height)×\(width): sizes must be 1...65536")
        }
        if width == image.width && height == image.height { return image }
        switch interpolation {
        case .nearest: return try nearest(image, width: width, height: height)
        case .bilinear: return try bilinear(image, width: width, height: height)
        case .area:
            if width <= image.width && height <= image.height { return try area(image, width: width, height: height) }
            return try bilinear(image, width: width, height: height)
        }
    }

    /// OpenCV's scale: the reciprocal of dst/src, computed as it does.
    static func scale(_ source: Int, _ target: Int) -> Double { 1.0 / (Double(target) / Double(source)) }

    static func nearest(_ image: Image, width: Int, height: Int) throws -> Image {
        var out = try Image(width: width, height: height, channels: image.channels)
        let sx = scale(image.width, width), sy = scale(image.height, height)
        let columns = (0..<width).map { min(Int((Double($0) * sx).rounded(.down)), image.width - 1) }
        let channels = image.channels
        image.pixels.withUnsafeBufferPointer { source in
            out.pixels.withUnsafeMutableBufferPointer { target in
                for y in 0..<height {
                    let row = min(Int((Double(y) * sy).rounded(.down)), image.height - 1) * image.width
                    var to = y * width * channels
                    for x in 0..<width {
                        let from = (row + columns[x]) * channels
                        for c in 0..<channels { target[to + c] = source[from + c] }
                        to += channels
                    }
                }
            }
        }
        return out
    }

    /// Per destination coordinate: the first source tap and the two 11-bit weights.
    static func linearTaps(source: Int, target: Int) -> (index: [Int], weight0: [Int32], weight1: [Int32]) {
        let s = scale(source, target)
        var index = [Int](repeating: 0, count: target)
        var weight0 = [Int32](repeating: 0, count: target), weight1 = [Int32](repeating: 0, count: target)
        for d in 0..<target {
            var f = (Double(d) + 0.5) * s - 0.5
            var i = Int(f.rounded(.down))
            f -= Double(i)
            if i < 0 { f = 0; i = 0 }
            if i >= source - 1 { f = 0; i = source - 1 }
            index[d] = i
            let w1 = Int32((Float(f) * 2048).rounded(.toNearestOrEven))
            weight1[d] = w1
            weight0[d] = Int32((Float(1 - f) * 2048).rounded(.toNearestOrEven))
        }
        return (index, weight0, weight1)
    }

    static func bilinear(_ image: Image, width: Int, height: Int) throws -> Image {
        var out = try Image(width: width, height: height, channels: image.channels)
        let channels = image.channels
        let xs = linearTaps(source: image.width, target: width)
        let ys = linearTaps(source: image.height, target: height)
        let lastColumn = image.width - 1
        // Horizontal pass into two rows of 32-bit sums, then the vertical blend, as cv2 does.
        var row0 = [Int32](repeating: 0, count: width * channels), row1 = row0
        image.pixels.withUnsafeBufferPointer { source in
            out.pixels.withUnsafeMutableBufferPointer { target in
                func horizontal(_ y: Int, into row: inout [Int32]) {
                    let base = y * image.width
                    for x in 0..<width {
                        let i0 = xs.index[x], i1 = min(i0 + 1, lastColumn)
                        let a0 = xs.weight0[x], a1 = xs.weight1[x]
                        let p0 = (base + i0) * channels, p1 = (base + i1) * channels
                        for c in 0..<channels {
                            row[x * channels + c] = Int32(source[p0 + c]) * a0 + Int32(source[p1 + c]) * a1
                        }
                    }
                }
                var cached0 = -1, cached1 = -1
                for y in 0..<height {
                    let y0 = ys.index[y], y1 = min(y0 + 1, image.height - 1)
                    if cached0 != y0 {
                        if cached1 == y0 { swap(&row0, &row1); cached0 = y0; cached1 = -1 } else { horizontal(y0, into: &row0); cached0 = y0 }
                    }
                    if cached1 != y1 { horizontal(y1, into: &row1); cached1 = y1 }
                    let b0 = Int64(ys.weight0[y]), b1 = Int64(ys.weight1[y])
                    let start = y * width * channels
                    for index in 0..<(width * channels) {
                        let value = (b0 * Int64(row0[index]) + b1 * Int64(row1[index]) + (1 << 21)) >> 22
                        target[start + index] = UInt8(clamping: value)
                    }
                }
            }
        }
        return out
    }

    static func area(_ image: Image, width: Int, height: Int) throws -> Image {
        var out = try Image(width: width, height: height, channels: image.channels)
        let channels = image.channels
        let sx = scale(image.width, width), sy = scale(image.height, height)
        /// Source cells covered by destination cell d, with their overlap.
        func cover(_ d: Int, _ s: Double, _ count: Int) -> [(Int, Double)] {
            let start = Double(d) * s, end = min(Double(d + 1) * s, Double(count))
            var cells: [(Int, Double)] = []
            var position = Int(start.rounded(.down))
            while Double(position) < end - 1e-12 {
                let overlap = min(end, Double(position + 1)) - max(start, Double(position))
                if overlap > 1e-12 { cells.append((position, overlap)) }
                position += 1
            }
            return cells
        }
        let columns = (0..<width).map { cover($0, sx, image.width) }
        for y in 0..<height {
            let rows = cover(y, sy, image.height)
            for x in 0..<width {
                var sums = [Double](repeating: 0, count: channels)
                var total = 0.0
                for (row, wy) in rows {
                    for (column, wx) in columns[x] {
                        let weight = wx * wy
                        total += weight
                        let base = (row * image.width + column) * channels
                        for c in 0..<channels { sums[c] += weight * Double(image.pixels[base + c]) }
                    }
                }
                for c in 0..<channels { out[x, y, c] = UInt8(clamping: Int((sums[c] / total).rounded(.toNearestOrEven))) }
            }
        }
        return out
    }
}
