import KilnCore

/// An 8-bit image: `height` rows of `width` pixels of `channels` (1 grey, 3 RGB, 4 RGBA)
/// interleaved bytes, row after row (HWC, contiguous).
public struct Image: Sendable, Equatable {
    public let width: Int
    public let height: Int
    public let channels: Int
    public var pixels: [UInt8]

    public init(width: Int, height: Int, channels: Int, pixels: [UInt8]) throws {
        try Self.check(width: width, height: height, channels: channels)
        guard pixels.count == width * height * channels else {
            throw KilnError.shapeMismatch("an image of \(height)×\(width)×\(channels) needs \(width * height * channels) bytes, got \(pixels.count)")
        }
        self.width = width
        self.height = height
        self.channels = channels
        self.pixels = pixels
    }

    public init(width: Int, height: Int, channels: Int, fill: UInt8 = 0) throws {
        try Self.check(width: width, height: height, channels: channels)
        self.width = width
        self.height = height
        self.channels = channels
        pixels = [UInt8](repeating: fill, count: width * height * channels)
    }

    /// Copies a strided view (numpy's strides in bytes; negative strides allowed).
    public init(copying base: UnsafeRawPointer, width: Int, height: Int, channels: Int,
                rowStride: Int, pixelStride: Int, channelStride: Int = 1) throws {
        try Self.check(width: width, height: height, channels: channels)
        self.width = width
        self.height = height
        self.channels = channels
        let rowBytes = width * channels
        pixels = [UInt8](unsafeUninitializedCapacity: height * rowBytes) { buffer, count in
            let target = UnsafeMutableRawPointer(buffer.baseAddress!)
            if pixelStride == channels && channelStride == 1 {
                // Rows of packed pixels (numpy's C order, a crop, or rows reversed): a copy per
                // row, or one for the whole image.
                if rowStride == rowBytes {
                    target.copyMemory(from: base, byteCount: height * rowBytes)
                } else {
                    for y in 0..<height { (target + y * rowBytes).copyMemory(from: base + y * rowStride, byteCount: rowBytes) }
                }
            } else {
                var index = 0
                for y in 0..<height {
                    let row = base + y &* rowStride
                    for x in 0..<width {
                        let pixel = row + x &* pixelStride
                        for c in 0..<channels {
                            buffer[index] = pixel.load(fromByteOffset: c &* channelStride, as: UInt8.self)
                            index &+= 1
                        }
                    }
                }
            }
            count = height * rowBytes
        }
    }

    static func check(width: Int, height: Int, channels: Int) throws {
        guard width > 0, height > 0 else { throw KilnError.invalidArgument("an image must not be empty, got \(height)×\(width)") }
        guard [1, 3, 4].contains(channels) else {
            throw KilnError.unsupported("images have 1, 3 or 4 channels, got \(channels)")
        }
        guard width <= 1 << 16, height <= 1 << 16 else {
            throw KilnError.invalidArgument("images are at most 65536 pixels a side, got \(height)×\(width)")
        }
    }

    public subscript(x: Int, y: Int, c: Int) -> UInt8 {
        get { pixels[(y * width + x) * channels + c] }
        set { pixels[(y * width + x) * channels + c] = newValue }
    }
}

/// Pixels read in place: `height` rows of `width` packed pixels of `channels` bytes, rows
/// `rowStride` bytes apart (negative for rows in reverse, as numpy's `image[::-1]`). Valid while
/// the memory it points to is: for the duration of a call.
public struct PixelView: @unchecked Sendable {
    public let base: UnsafeRawPointer
    public let width: Int
    public let height: Int
    public let channels: Int
    public let rowStride: Int

    public init(base: UnsafeRawPointer, width: Int, height: Int, channels: Int, rowStride: Int) throws {
        try Image.check(width: width, height: height, channels: channels)
        (self.base, self.width, self.height, self.channels, self.rowStride) = (base, width, height, channels, rowStride)
    }

    /// A copy as an `Image`.
    public func image() throws -> Image {
        try Image(copying: base, width: width, height: height, channels: channels, rowStride: rowStride, pixelStride: channels)
    }
}

extension Image {
    /// This image's pixels as a view, for the duration of `body`.
    func withView<R>(_ body: (PixelView) throws -> R) rethrows -> R {
        try pixels.withUnsafeBytes { bytes in
            try body(PixelView(unchecked: bytes.baseAddress!, width: width, height: height, channels: channels, rowStride: width * channels))
        }
    }
}

extension PixelView {
    /// For images already checked.
    init(unchecked base: UnsafeRawPointer, width: Int, height: Int, channels: Int, rowStride: Int) {
        (self.base, self.width, self.height, self.channels, self.rowStride) = (base, width, height, channels, rowStride)
    }
}
