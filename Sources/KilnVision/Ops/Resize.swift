import CKilnSupport
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

    /// Per destination coordinate: the first source tap and the two 11-bit weights
    /// (`ckiln_linear_taps`).
    static func linearTaps(source: Int, target: Int) -> (index: [Int], weight0: [Int32], weight1: [Int32]) {
        var index = [Int32](repeating: 0, count: target)
        var weight0 = [Int32](repeating: 0, count: target), weight1 = [Int32](repeating: 0, count: target)
        ckiln_linear_taps(source, target, &index, &weight0, &weight1)
        return (index.map(Int.init), weight0, weight1)
    }

    /// Crops the window (x, y, w, h) and resizes it bilinearly in one pass (no copy of the crop):
    /// the same bytes as `crop` then `resize`.
    public static func cropResize(_ image: Image, x: Int, y: Int, cropWidth: Int, cropHeight: Int, width: Int, height: Int,
                                  interpolation: Interpolation) throws -> Image {
        guard interpolation == .bilinear, cropWidth != width || cropHeight != height else {
            return try resize(try Geometry.crop(image, x: x, y: y, width: cropWidth, height: cropHeight),
                              width: width, height: height, interpolation: interpolation)
        }
        guard cropWidth >= 1, cropHeight >= 1, x >= 0, y >= 0, x + cropWidth <= image.width, y + cropHeight <= image.height else {
            throw KilnError.invalidArgument("crop \(cropHeight)×\(cropWidth) at (\(x), \(y)) does not fit in an image of \(image.height)×\(image.width)")
        }
        return try bilinear(image, width: width, height: height, window: (x, y, cropWidth, cropHeight))
    }

    static func bilinear(_ image: Image, width: Int, height: Int, window: (x: Int, y: Int, width: Int, height: Int)? = nil) throws -> Image {
        var out = try Image(width: width, height: height, channels: image.channels)
        let rowBytes = width * image.channels
        out.pixels.withUnsafeMutableBufferPointer { target in
            image.withView { view in
                bilinearRows(view, window: window ?? (0, 0, image.width, image.height), width: width, height: height) { y, row in
                    (target.baseAddress! + y * rowBytes).update(from: row, count: rowBytes)
                }
            }
        }
        return out
    }

    /// Resamples `window` of `image` to `width`×`height` with cv2's 11-bit fixed-point bilinear
    /// arithmetic, handing each finished row of bytes to `body` (row index, pointer valid during the call).
    static func bilinearRows(_ image: PixelView, window area: (x: Int, y: Int, width: Int, height: Int), width: Int, height: Int,
                             _ body: (Int, UnsafePointer<UInt8>) -> Void) {
        let channels = image.channels
        let xs = linearTaps(source: area.width, target: width)
        let ys = linearTaps(source: area.height, target: height)
        let lastColumn = area.width - 1
        // Horizontal pass into two rows of 32-bit sums, then the vertical blend, as cv2 does.
        // One spare element: the RGB path stores four lanes per pixel, the fourth overwritten next.
        var row0 = [Int32](repeating: 0, count: width * channels + 1), row1 = row0
        var finished = [UInt8](repeating: 0, count: width * channels)
        let source = image.base.assumingMemoryBound(to: UInt8.self)
        let taps = UnsafeMutablePointer<(Int, Int, Int32, Int32)>.allocate(capacity: width)
        defer { taps.deallocate() }
        for x in 0..<width {
            let i0 = xs.index[x]
            taps[x] = (i0 * channels, min(i0 + 1, lastColumn) * channels, xs.weight0[x], xs.weight1[x])
        }
        // Pixels whose taps can be read four bytes at a time without leaving the image row
        // (taps only move right as x does).
        let rowLimit = (image.width - area.x) * channels
        var fourByteEnd = 0
        while fourByteEnd < width && taps[fourByteEnd].1 + 4 <= rowLimit { fourByteEnd += 1 }
        func horizontal(_ y: Int, into row: inout [Int32]) {
            let base = source + (y + area.y) * image.rowStride + area.x * channels
            row.withUnsafeMutableBufferPointer { row in
                let out = row.baseAddress!
                // Wrapping index arithmetic (the taps are in range by construction): no overflow
                // checks in the loop.
                if channels == 3 {
                    // Both taps' RGB (and a neighbour's byte) as four lanes: 2 loads, 2 multiplies.
                    for x in 0..<fourByteEnd {
                        let (p0, p1, a0, a1) = taps[x]
                        let left = SIMD4<Int32>(truncatingIfNeeded: UnsafeRawPointer(base + p0).loadUnaligned(as: SIMD4<UInt8>.self))
                        let right = SIMD4<Int32>(truncatingIfNeeded: UnsafeRawPointer(base + p1).loadUnaligned(as: SIMD4<UInt8>.self))
                        UnsafeMutableRawPointer(out + x &* 3).storeBytes(
                            of: left &* SIMD4(repeating: a0) &+ right &* SIMD4(repeating: a1), as: SIMD4<Int32>.self)
                    }
                    for x in fourByteEnd..<width {
                        let (p0, p1, a0, a1) = taps[x]
                        let o = x &* 3
                        out[o] = Int32(base[p0]) &* a0 &+ Int32(base[p1]) &* a1
                        out[o &+ 1] = Int32(base[p0 &+ 1]) &* a0 &+ Int32(base[p1 &+ 1]) &* a1
                        out[o &+ 2] = Int32(base[p0 &+ 2]) &* a0 &+ Int32(base[p1 &+ 2]) &* a1
                    }
                } else {
                    for x in 0..<width {
                        let (p0, p1, a0, a1) = taps[x]
                        for c in 0..<channels { out[x &* channels &+ c] = Int32(base[p0 &+ c]) &* a0 &+ Int32(base[p1 &+ c]) &* a1 }
                    }
                }
            }
        }
        var cached0 = -1, cached1 = -1
        for y in 0..<height {
            let y0 = ys.index[y], y1 = min(y0 + 1, area.height - 1)
            if cached0 != y0 {
                if cached1 == y0 { swap(&row0, &row1); cached0 = y0; cached1 = -1 } else { horizontal(y0, into: &row0); cached0 = y0 }
            }
            if cached1 != y1 { horizontal(y1, into: &row1); cached1 = y1 }
            // As cv2's SIMD code computes it (and so cv2.resize on x86): the 19-bit sums cut to
            // 15 bits (saturated to 16), then the high halves of their 16-bit products with the
            // 11-bit weights, summed and rounded off by 2 bits.
            let b0 = ys.weight0[y], b1 = ys.weight1[y]
            row0.withUnsafeBufferPointer { top in
                row1.withUnsafeBufferPointer { bottom in
                    finished.withUnsafeMutableBufferPointer { destination in
                        ckiln_resize_vertical(top.baseAddress!, bottom.baseAddress!, width * channels, Int16(b0), Int16(b1),
                                              destination.baseAddress!)
                        body(y, UnsafePointer(destination.baseAddress!))
                    }
                }
            }
        }
    }

    /// Area averaging: each destination pixel is the mean of the source pixels its cell covers,
    /// weighted by the overlap. The weights are products of a row's and a column's overlap, so
    /// each source row is first shrunk across (into doubles), then the rows are summed down.
    static func area(_ image: Image, width: Int, height: Int) throws -> Image {
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
        // The columns' cells flattened: cells starts[x]..<starts[x + 1] of `sourceOffsets`/`weights`.
        let columns = (0..<width).map { cover($0, sx, image.width) }
        let starts = columns.reduce(into: [0]) { $0.append($0.last! + $1.count) }
        let sourceOffsets = columns.flatMap { $0.map { $0.0 * channels } }
        let weights = columns.flatMap { $0.map(\.1) }
        let columnTotals = columns.map { $0.reduce(0) { $0 + $1.1 } }
        let rowLength = width * channels, sourceRowLength = image.width * channels
        var sums = [Double](repeating: 0, count: rowLength)
        let pixels = [UInt8](unsafeUninitializedCapacity: height * rowLength) { target, written in
            image.pixels.withUnsafeBufferPointer { source in
                sums.withUnsafeMutableBufferPointer { sums in
                    for y in 0..<height {
                        let rows = cover(y, sy, image.height)
                        for index in 0..<rowLength { sums[index] = 0 }
                        for (row, rowWeight) in rows {
                            let line = source.baseAddress! + row * sourceRowLength
                            for x in 0..<width {
                                for c in 0..<channels {
                                    var across = 0.0
                                    for cell in starts[x]..<starts[x + 1] {
                                        across += weights[cell] * Double(line[sourceOffsets[cell] + c])
                                    }
                                    sums[x * channels + c] += rowWeight * across
                                }
                            }
                        }
                        let rowTotal = rows.reduce(0) { $0 + $1.1 }
                        let out = target.baseAddress! + y * rowLength
                        for x in 0..<width {
                            let total = rowTotal * columnTotals[x]
                            for c in 0..<channels {
                                out[x * channels + c] = UInt8(clamping: Int((sums[x * channels + c] / total).rounded(.toNearestOrEven)))
                            }
                        }
                    }
                }
            }
            written = height * rowLength
        }
        return try Image(width: width, height: height, channels: channels, pixels: pixels)
    }
}
