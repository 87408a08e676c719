import CPNG
import KilnCore

/// PNG through libpng's simplified API: grey, RGB and RGBA (palettes and grey + alpha are
/// expanded; 16-bit samples become 8-bit).
enum PNG {
    static func header(_ bytes: [UInt8]) throws -> (width: Int, height: Int, channels: Int) {
        var image = png_image()
        image.version = png_uint_32(PNG_IMAGE_VERSION)
        defer { png_image_free(&image) }
        try begin(&image, bytes)
        return (Int(image.width), Int(image.height), channels(of: image.format))
    }

    static func decode(_ bytes: [UInt8]) throws -> Image {
        let (width, height, channels) = try header(bytes)
        var result = try Image(width: width, height: height, channels: channels)
        _ = try result.pixels.withUnsafeMutableBytes { try decode(bytes, into: $0) }
        return result
    }

    /// Decodes into `target` (exactly width × height × channels bytes, HWC); returns the size.
    static func decode(_ bytes: [UInt8], into target: UnsafeMutableRawBufferPointer) throws -> (width: Int, height: Int, channels: Int) {
        var image = png_image()
        image.version = png_uint_32(PNG_IMAGE_VERSION)
        defer { png_image_free(&image) }
        try begin(&image, bytes)
        let channels = channels(of: image.format), width = Int(image.width), height = Int(image.height)
        try Image.check(width: width, height: height, channels: channels)
        try ImageCodec.checkTarget(target, holds: (width, height, channels), of: "PNG")
        image.format = format(channels: channels)
        let ok = png_image_finish_read(&image, nil, target.baseAddress, png_int_32(width * channels), nil)
        guard ok != 0 else { throw KilnError.format("corrupt or truncated PNG: \(message(image))") }
        return (width, height, channels)
    }

    static func encode(_ image: Image) throws -> [UInt8] {
        var png = png_image()
        png.version = png_uint_32(PNG_IMAGE_VERSION)
        png.width = png_uint_32(image.width)
        png.height = png_uint_32(image.height)
        png.format = format(channels: image.channels)
        defer { png_image_free(&png) }
        var size = 0
        let stride = png_int_32(image.width * image.channels)
        var ok = image.pixels.withUnsafeBytes { png_image_write_to_memory(&png, nil, &size, 0, $0.baseAddress, stride, nil) }
        guard ok != 0 else { throw KilnError.io("PNG encoding failed: \(message(png))") }
        var output = [UInt8](repeating: 0, count: size)
        ok = output.withUnsafeMutableBytes { target in
            image.pixels.withUnsafeBytes { png_image_write_to_memory(&png, target.baseAddress, &size, 0, $0.baseAddress, stride, nil) }
        }
        guard ok != 0 else { throw KilnError.io("PNG encoding failed: \(message(png))") }
        return Array(output.prefix(size))
    }

    private static func begin(_ image: inout png_image, _ bytes: [UInt8]) throws {
        let ok = bytes.withUnsafeBytes { png_image_begin_read_from_memory(&image, $0.baseAddress, $0.count) }
        guard ok != 0 else { throw KilnError.format("corrupt PNG: \(message(image))") }
        try Image.check(width: Int(image.width), height: Int(image.height), channels: 1)
    }

    // PNG_FORMAT_FLAG_ALPHA and PNG_FORMAT_FLAG_COLOR (composite macros do not reach Swift).
    private static let alphaFlag: png_uint_32 = 0x01, colorFlag: png_uint_32 = 0x02

    private static func channels(of format: png_uint_32) -> Int {
        format & alphaFlag != 0 ? 4 : format & colorFlag != 0 ? 3 : 1
    }

    /// PNG_FORMAT_GRAY, _RGB or _RGBA.
    private static func format(channels: Int) -> png_uint_32 {
        channels == 1 ? 0 : channels == 3 ? colorFlag : colorFlag | alphaFlag
    }

    private static func message(_ image: png_image) -> String {
        var copy = image.message
        return withUnsafeBytes(of: &copy) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
    }
}
