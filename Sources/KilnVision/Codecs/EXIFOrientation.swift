/// The EXIF orientation tag of a JPEG (1 ... 8), and the flips and rotations that make the image
/// upright as viewers (and OpenCV's `imread`) show it.
public struct EXIFOrientation: Sendable, Equatable {
    public let value: Int

    public static let upright = EXIFOrientation(value: 1)

    /// Reads the tag from the APP1 "Exif" segment; 1 when absent or unreadable.
    public static func read(jpeg bytes: [UInt8]) -> EXIFOrientation {
        var offset = 2
        while offset + 4 <= bytes.count, bytes[offset] == 0xFF {
            let marker = bytes[offset + 1]
            if marker == 0xDA || marker == 0xD9 { break }  // start of scan: no more metadata
            let length = Int(bytes[offset + 2]) << 8 | Int(bytes[offset + 3])
            guard length >= 2, offset + 2 + length <= bytes.count else { break }
            if marker == 0xE1, length >= 8, bytes[(offset + 4)..<(offset + 10)].elementsEqual(Array("Exif\0\0".utf8)) {
                return parseTIFF(Array(bytes[(offset + 10)..<(offset + 2 + length)]))
            }
            offset += 2 + length
        }
        return .upright
    }

    private static func parseTIFF(_ tiff: [UInt8]) -> EXIFOrientation {
        guard tiff.count >= 8 else { return .upright }
        let little = tiff[0] == 0x49
        func u16(_ at: Int) -> Int? {
            guard at + 2 <= tiff.count else { return nil }
            return little ? Int(tiff[at]) | Int(tiff[at + 1]) << 8 : Int(tiff[at]) << 8 | Int(tiff[at + 1])
        }
        func u32(_ at: Int) -> Int? {
            guard let high = u16(little ? at + 2 : at), let low = u16(little ? at : at + 2) else { return nil }
            return high << 16 | low
        }
        guard let ifd = u32(4), let entries = u16(ifd) else { return .upright }
        for entry in 0..<entries {
            let at = ifd + 2 + entry * 12
            guard let tag = u16(at) else { break }
            if tag == 0x0112, let value = u16(at + 8), (1...8).contains(value) { return EXIFOrientation(value: value) }
        }
        return .upright
    }

    /// Orientations 5 to 8 turn the image a quarter: width and height swap.
    public var swapsAxes: Bool { value >= 5 }

    /// The upright image.
    public func apply(to image: Image) -> Image {
        guard value != 1 else { return image }
        let width = image.width, height = image.height, channels = image.channels
        let outWidth = swapsAxes ? height : width, outHeight = swapsAxes ? width : height
        var out = try! Image(width: outWidth, height: outHeight, channels: channels)
        for y in 0..<outHeight {
            for x in 0..<outWidth {
                // The source pixel shown at (x, y).
                let (sx, sy): (Int, Int)
                switch value {
                case 2: (sx, sy) = (width - 1 - x, y)                 // mirrored
                case 3: (sx, sy) = (width - 1 - x, height - 1 - y)    // rotated 180
                case 4: (sx, sy) = (x, height - 1 - y)                // mirrored vertically
                case 5: (sx, sy) = (y, x)                             // transposed
                case 6: (sx, sy) = (y, height - 1 - x)                // rotated 90 clockwise to view
                case 7: (sx, sy) = (width - 1 - y, height - 1 - x)    // transversed
                default: (sx, sy) = (width - 1 - y, x)                // 8: rotated 90 counter-clockwise to view
                }
                for c in 0..<channels { out[x, y, c] = image[sx, sy, c] }
            }
        }
        return out
    }
}
