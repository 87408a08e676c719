import CKilnSupport
import KilnCore

/// Flips, crops and padding: exact pixel moves.
public enum Geometry {
    public static func flipHorizontal(_ image: Image) -> Image {
        let width = image.width, height = image.height, channels = image.channels, rowBytes = width &* channels
        let pixels = [UInt8](unsafeUninitializedCapacity: image.pixels.count) { target, count in
            image.pixels.withUnsafeBufferPointer { source in
                for y in 0..<height {
                    let row = y &* rowBytes
                    // Each row is read back to front, which the hardware prefetchers do not
                    // follow: the next row is asked for while this one is copied (up to 5x
                    // faster at 512², depending on where the image lies in memory).
                    if y &+ 1 < height { ckiln_prefetch(source.baseAddress! + (row &+ rowBytes), rowBytes) }
                    reverseCopy(from: source.baseAddress! + row, pixels: width, channels: channels,
                                to: target.baseAddress! + row)
                }
            }
            count = image.pixels.count
        }
        return try! Image(width: image.width, height: image.height, channels: channels, pixels: pixels)
    }

    public static func flipVertical(_ image: Image) -> Image {
        let pixels = [UInt8](unsafeUninitializedCapacity: image.pixels.count) { target, count in
            image.pixels.withUnsafeBufferPointer { source in
                ckiln_copy_rows_reversed(source.baseAddress!, target.baseAddress!, image.width &* image.channels, image.height)
            }
            count = image.pixels.count
        }
        return try! Image(width: image.width, height: image.height, channels: image.channels, pixels: pixels)
    }

    /// The `width`×`height` window whose top-left pixel is (x, y); it must lie inside the image.
    public static func crop(_ image: Image, x: Int, y: Int, width: Int, height: Int) throws -> Image {
        guard width >= 1, height >= 1, x >= 0, y >= 0, x + width <= image.width, y + height <= image.height else {
            throw KilnError.invalidArgument("crop \(height)×\(width) at (\(x), \(y)) does not fit in an image of \(image.height)×\(image.width)")
        }
        let channels = image.channels, rowBytes = width * channels
        let pixels = [UInt8](unsafeUninitializedCapacity: height * rowBytes) { target, count in
            image.pixels.withUnsafeBufferPointer { source in
                for row in 0..<height {
                    (target.baseAddress! + row * rowBytes)
                        .initialize(from: source.baseAddress! + ((y + row) * image.width + x) * channels, count: rowBytes)
                }
            }
            count = height * rowBytes
        }
        return try Image(width: width, height: height, channels: channels, pixels: pixels)
    }

    /// Adds `top`, `bottom`, `left`, `right` pixels of border.
    public static func pad(_ image: Image, top: Int, bottom: Int, left: Int, right: Int, border: BorderMode,
                           fill: [UInt8]) throws -> Image {
        let width = image.width + left + right, height = image.height + top + bottom
        try Image.check(width: width, height: height, channels: image.channels)
        let channels = image.channels, rowBytes = image.width * channels, outRowBytes = width * channels
        // Border columns of each output row: the source column's byte offset, or -1 for the fill.
        let columns = (0..<(left + right)).map { border.source($0 < left ? $0 - left : image.width + $0 - left, image.width).map { $0 * channels } ?? -1 }
        let fillRow = (0..<outRowBytes).map { fill[min($0 % channels, fill.count - 1)] }
        let pixels = [UInt8](unsafeUninitializedCapacity: height * outRowBytes) { target, count in
            image.pixels.withUnsafeBufferPointer { source in
                fillRow.withUnsafeBufferPointer { fillBytes in
                    columns.withUnsafeBufferPointer { offsets in
                        let to = target.baseAddress!, pattern = fillBytes.baseAddress!
                        // Each side's border columns, when they are consecutive source columns
                        // right to left (reflections), as that run's leftmost column; else nil.
                        func reversedRun(_ range: Range<Int>) -> Int? {
                            guard let first = range.first, offsets[first] >= 0 else { return nil }
                            for position in range where offsets[position] != offsets[first] &- (position &- first) &* channels { return nil }
                            return offsets[range.last!]
                        }
                        let leftRun = reversedRun(0..<left), rightRun = reversedRun(left..<(left + right))
                        /// One side's border of a row: its columns `range` of `offsets`, from output column `start`.
                        func side(_ range: Range<Int>, run: Int?, start: Int, from: UnsafePointer<UInt8>, row: UnsafeMutablePointer<UInt8>) {
                            if let run {
                                reverseCopy(from: from + run, pixels: range.count, channels: channels, to: row + start &* channels)
                                return
                            }
                            for position in range {
                                let offset = offsets[position]
                                copyPixel(from: offset >= 0 ? from + offset : pattern, to: row + (start &+ position &- range.lowerBound) &* channels,
                                          channels: channels)
                            }
                        }
                        // The rows with source pixels first, then the border rows as copies of them.
                        for sy in 0..<image.height {
                            let row = to + (sy + top) * outRowBytes, from = source.baseAddress! + sy * rowBytes
                            (row + left * channels).initialize(from: from, count: rowBytes)
                            side(0..<left, run: leftRun, start: 0, from: from, row: row)
                            side(left..<(left + right), run: rightRun, start: image.width + left, from: from, row: row)
                        }
                        for y in Array(0..<top) + Array((top + image.height)..<height) {
                            let row = to + y * outRowBytes
                            if let sy = border.source(y - top, image.height) {
                                row.initialize(from: to + (sy + top) * outRowBytes, count: outRowBytes)
                            } else {
                                row.initialize(from: pattern, count: outRowBytes)
                            }
                        }
                    }
                }
            }
            count = height * outRowBytes
        }
        return try Image(width: width, height: height, channels: channels, pixels: pixels)
    }
}

/// Copies the `pixels` pixels from `source` on into `target` in reverse order (a mirrored row,
/// a reflected border). Three channels as plain strided byte loads and stores at non-negative
/// offsets, which the compiler vectorises; others a pixel at a time.
@inline(__always)
func reverseCopy(from source: UnsafePointer<UInt8>, pixels: Int, channels: Int, to target: UnsafeMutablePointer<UInt8>) {
    let last = (pixels &- 1) &* channels
    switch channels {
    case 3:
        for x in 0..<pixels {
            let (write, read) = (x &* 3, last &- x &* 3)
            target[write] = source[read]
            target[write &+ 1] = source[read &+ 1]
            target[write &+ 2] = source[read &+ 2]
        }
    default:
        for x in 0..<pixels { copyPixel(from: source + (last &- x &* channels), to: target + x &* channels, channels: channels) }
    }
}

/// One pixel's bytes, as one or two moves rather than a byte loop.
@inline(__always)
func copyPixel(from source: UnsafePointer<UInt8>, to target: UnsafeMutablePointer<UInt8>, channels: Int) {
    let from = UnsafeRawPointer(source), to = UnsafeMutableRawPointer(target)
    switch channels {
    case 4: to.storeBytes(of: from.loadUnaligned(as: UInt32.self), as: UInt32.self)
    case 3:
        to.storeBytes(of: from.loadUnaligned(as: UInt16.self), as: UInt16.self)
        target[2] = source[2]
    default: target[0] = source[0]
    }
}

/// A grid of thumbnails, for looking at augmentations at a glance.
public enum ContactSheet {
    /// Tiles `images` (any sizes and channel counts) `columns` wide, each resized to fit a
    /// `cell`×`cell` square on a dark background, as RGB.
    public static func make(_ images: [Image], columns: Int, cell: Int = 160, gap: Int = 4) throws -> Image {
        guard !images.isEmpty, columns >= 1, cell >= 8 else { throw KilnError.invalidArgument("contact sheet: no images") }
        let rows = (images.count + columns - 1) / columns
        let width = columns * (cell + gap) + gap, height = rows * (cell + gap) + gap
        var sheet = try Image(width: width, height: height, channels: 3, fill: 24)
        for (position, image) in images.enumerated() {
            let scale = Double(cell) / Double(max(image.width, image.height))
            let thumb = try Resize.resize(image, width: max(1, Int(Double(image.width) * scale)),
                                          height: max(1, Int(Double(image.height) * scale)), interpolation: .area)
            let originX = gap + (position % columns) * (cell + gap) + (cell - thumb.width) / 2
            let originY = gap + (position / columns) * (cell + gap) + (cell - thumb.height) / 2
            for y in 0..<thumb.height {
                for x in 0..<thumb.width {
                    for c in 0..<3 { sheet[originX + x, originY + y, c] = thumb[x, y, thumb.channels >= 3 ? c : 0] }
                }
            }
        }
        return sheet
    }
}
