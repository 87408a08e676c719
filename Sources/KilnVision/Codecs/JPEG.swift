import CTurboJPEG
import KilnCore

/// JPEG through libjpeg-turbo's TurboJPEG API: accurate integer DCT and fancy upsampling, as
/// OpenCV's `imdecode` decodes.
enum JPEG {
    static func header(_ bytes: [UInt8]) throws -> (width: Int, height: Int, channels: Int) {
        guard let handle = tjInitDecompress() else { throw KilnError(.outOfMemory, "libjpeg-turbo could not start") }
        defer { tjDestroy(handle) }
        return try header(bytes, handle)
    }

    /// The size and channel count from the file's header, read with `handle`.
    private static func header(_ bytes: [UInt8], _ handle: tjhandle) throws -> (width: Int, height: Int, channels: Int) {
        var width: Int32 = 0, height: Int32 = 0, subsampling: Int32 = 0, colorspace: Int32 = 0
        let status = bytes.withUnsafeBufferPointer {
            tjDecompressHeader3(handle, $0.baseAddress, UInt($0.count), &width, &height, &subsampling, &colorspace)
        }
        guard status == 0 else { throw KilnError.format("corrupt JPEG: \(message(handle))") }
        return (Int(width), Int(height), colorspace == Int32(TJCS_GRAY.rawValue) ? 1 : 3)
    }

    static func decode(_ bytes: [UInt8]) throws -> Image {
        guard let handle = tjInitDecompress() else { throw KilnError(.outOfMemory, "libjpeg-turbo could not start") }
        defer { tjDestroy(handle) }
        let (width, height, channels) = try header(bytes, handle)
        try Image.check(width: width, height: height, channels: channels)
        var failure: Error?
        // Decoded straight into uninitialised memory: every byte is written (or the call fails).
        let pixels = [UInt8](unsafeUninitializedCapacity: width * height * channels) { target, count in
            do {
                _ = try decode(bytes, handle, into: UnsafeMutableRawBufferPointer(target))
                count = width * height * channels
            } catch {
                (failure, count) = (error, 0)
            }
        }
        if let failure { throw failure }
        return try Image(width: width, height: height, channels: channels, pixels: pixels)
    }

    /// Decodes into `target` (exactly width × height × channels bytes, HWC); returns the size.
    static func decode(_ bytes: [UInt8], into target: UnsafeMutableRawBufferPointer) throws -> (width: Int, height: Int, channels: Int) {
        guard let handle = tjInitDecompress() else { throw KilnError(.outOfMemory, "libjpeg-turbo could not start") }
        defer { tjDestroy(handle) }
        return try decode(bytes, handle, into: target)
    }

    private static func decode(_ bytes: [UInt8], _ handle: tjhandle,
                               into target: UnsafeMutableRawBufferPointer) throws -> (width: Int, height: Int, channels: Int) {
        let (width, height, channels) = try header(bytes, handle)
        try Image.check(width: width, height: height, channels: channels)
        try ImageCodec.checkTarget(target, holds: (width, height, channels), of: "JPEG")
        let pixelFormat = channels == 1 ? TJPF_GRAY : TJPF_RGB
        let status = bytes.withUnsafeBufferPointer { source in
            tjDecompress2(handle, source.baseAddress, UInt(source.count), target.baseAddress?.assumingMemoryBound(to: UInt8.self),
                          Int32(width), Int32(width * channels), Int32(height), pixelFormat.rawValue, 0)
        }
        // A truncated file is a warning to libjpeg-turbo (it fills grey); to Kiln it is an error.
        guard status == 0 else { throw KilnError.format("corrupt or truncated JPEG: \(message(handle))") }
        return (width, height, channels)
    }

    static func encode(_ image: Image, quality: Int) throws -> [UInt8] {
        guard (1...100).contains(quality) else { throw KilnError.invalidArgument("JPEG quality is 1...100, got \(quality)") }
        var source = image
        if image.channels == 4 { source = dropAlpha(image) }
        guard let handle = tjInitCompress() else { throw KilnError(.outOfMemory, "libjpeg-turbo could not start") }
        defer { tjDestroy(handle) }
        var output: UnsafeMutablePointer<UInt8>? = nil
        var size: UInt = 0
        let gray = source.channels == 1
        let status = source.pixels.withUnsafeBufferPointer {
            tjCompress2(handle, $0.baseAddress, Int32(source.width), Int32(source.width * source.channels), Int32(source.height),
                        (gray ? TJPF_GRAY : TJPF_RGB).rawValue, &output, &size,
                        Int32((gray ? TJSAMP_GRAY : TJSAMP_420).rawValue), Int32(quality), 0)
        }
        defer { if let output { tjFree(output) } }
        guard status == 0, let output else { throw KilnError.io("JPEG encoding failed: \(message(handle))") }
        return Array(UnsafeBufferPointer(start: output, count: Int(size)))
    }

    private static func dropAlpha(_ image: Image) -> Image {
        var pixels = [UInt8](repeating: 0, count: image.width * image.height * 3)
        for index in 0..<(image.width * image.height) {
            pixels[index * 3] = image.pixels[index * 4]
            pixels[index * 3 + 1] = image.pixels[index * 4 + 1]
            pixels[index * 3 + 2] = image.pixels[index * 4 + 2]
        }
        return try! Image(width: image.width, height: image.height, channels: 3, pixels: pixels)
    }

    private static func message(_ handle: tjhandle) -> String {
        String(cString: tjGetErrorStr2(handle))
    }
}
