import KilnCore

/// Flips, crops and padding: exact pixel moves.
public enum Geometry {
    public static func flipHorizontal(_ image: Image) -> Image {
        var out = image
        let rowBytes = image.width * image.channels
        image.pixels.withUnsafeBufferPointer { source in
            out.pixels.withUnsafeMutableBufferPointer { target in
                for y in 0..<image.height {
                    let row = y * rowBytes
                    for x in 0..<image.width {
                        let from = row + (image.width - 1 - x) * image.channels, to = row + x * image.channels
                        for c in 0..<image.channels { target[to + c] = source[from + c] }
                    }
                }
            }
        }
        return out
    }

    public static func flipVertical(_ image: Image) -> Image {
        var out = image
        let rowBytes = image.width * image.channels
        for y in 0..<image.height {
            let from = (image.height - 1 - y) * rowBytes
            out.pixels.replaceSubrange((y * rowBytes)..<((y + 1) * rowBytes), with: image.pixels[from..<(from + rowBytes)])
        }
        return out
    }

    /// The `width`×`height` window whose top-left pixel is (x, y); it must lie inside the image.
    public static func crop(_ image: Image, x: Int, y: Int, width: Int, height: Int) throws -> Image {
        guard width >= 1, height >= 1, x >= 0, y >= 0, x + width <= image.width, y + height <= image.height else {
            throw KilnError.invalidArgument("crop \(height)×\(width) at (\(x), \(y)) does not fit in an image of \(image.height)×\(image.width)")
        }
        var pixels: [UInt8] = []
        pixels.reserveCapacity(width * height * image.channels)
        for row in y..<(y + height) {
            let start = (row * image.width + x) * image.channels
            pixels.append(contentsOf: image.pixels[start..<(start + width * image.channels)])
        }
        return try Image(width: width, height: height, channels: image.channels, pixels: pixels)
    }

    /// Adds `top`, `bottom`, `left`, `right` pixels of border.
    public static func pad(_ image: Image, top: Int, bottom: Int, left: Int, right: Int, border: BorderMode,
                           fill: [UInt8]) throws -> Image {
        let width = image.width + left + right, height = image.height + top + bottom
        var out = try Image(width: width, height: height, channels: image.channels)
        for y in 0..<height {
            let sy = border.source(y - top, image.height)
            for x in 0..<width {
                let sx = border.source(x - left, image.width)
                for c in 0..<image.channels {
                    if let sx, let sy { out[x, y, c] = image[sx, sy, c] } else { out[x, y, c] = fill[c] }
                }
            }
        }
        return out
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
