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
        pixels = [UInt8](unsafeUninitializedCapacity: width * height * channels) { buffer, count in
            var index = 0
            for y in 0..<height {
                let row = base + y * rowStride
                for x in 0..<width {
                    let pixel = row + x * pixelStride
                    for c in 0..<channels {
                        buffer[index] = pixel.load(fromByteOffset: c * channelStride, as: UInt8.self)
                        index += 1
                    }
                }
            }
            count = index
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
