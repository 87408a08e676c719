import KilnCore

/// The file formats Kiln reads and writes.
public enum ImageFormat: String, Sendable, CaseIterable {
    case jpeg, png

    /// From the first bytes of a file.
    public static func detect(_ bytes: [UInt8]) -> ImageFormat? {
        if bytes.count >= 3, bytes[0] == 0xFF, bytes[1] == 0xD8, bytes[2] == 0xFF { return .jpeg }
        if bytes.count >= 8, bytes[0..<8].elementsEqual([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) { return .png }
        return nil
    }

    /// From a file name's extension.
    public static func from(path: String) -> ImageFormat? {
        let lower = path.lowercased()
        if lower.hasSuffix(".jpg") || lower.hasSuffix(".jpeg") { return .jpeg }
        if lower.hasSuffix(".png") { return .png }
        return nil
    }
}

/// Decoding and encoding of JPEG (libjpeg-turbo) and PNG (libpng).
public enum ImageCodec {
    /// Decodes a JPEG or PNG file's bytes. JPEG EXIF orientation is applied, so the image is
    /// upright as viewers show it.
    public static func decode(_ bytes: [UInt8]) throws -> Image {
        switch ImageFormat.detect(bytes) {
        case .jpeg:
            let image = try JPEG.decode(bytes)
            return EXIFOrientation.read(jpeg: bytes).apply(to: image)
        case .png: return try PNG.decode(bytes)
        case nil: throw KilnError.format("not a JPEG or PNG image (unknown signature)")
        }
    }

    /// `decode` straight into `target`, which must hold exactly the image's bytes (height ×
    /// width × channels, HWC; `info` tells the size): one buffer, no copy, for a caller that owns
    /// the memory (a numpy array). Returns the size.
    public static func decode(_ bytes: [UInt8], into target: UnsafeMutableRawBufferPointer) throws -> (width: Int, height: Int, channels: Int) {
        switch ImageFormat.detect(bytes) {
        case .jpeg:
            let orientation = EXIFOrientation.read(jpeg: bytes)
            guard orientation.value != 1 else { return try JPEG.decode(bytes, into: target) }
            let image = orientation.apply(to: try JPEG.decode(bytes))
            try checkTarget(target, holds: (image.width, image.height, image.channels), of: "JPEG")
            image.pixels.withUnsafeBytes { target.copyMemory(from: $0) }
            return (image.width, image.height, image.channels)
        case .png: return try PNG.decode(bytes, into: target)
        case nil: throw KilnError.format("not a JPEG or PNG image (unknown signature)")
        }
    }

    /// That `target` holds exactly an image of `size` (HWC bytes), else a shape mismatch naming both.
    static func checkTarget(_ target: UnsafeMutableRawBufferPointer, holds size: (width: Int, height: Int, channels: Int),
                            of format: String) throws {
        let bytes = size.width * size.height * size.channels
        guard target.count == bytes else {
            throw KilnError.shapeMismatch("the \(format) is \(size.height)×\(size.width)×\(size.channels) (\(bytes) bytes), the output holds \(target.count)")
        }
    }

    public static func encode(_ image: Image, as format: ImageFormat, quality: Int = 95) throws -> [UInt8] {
        switch format {
        case .jpeg: try JPEG.encode(image, quality: quality)
        case .png: try PNG.encode(image)
        }
    }

    public static func read(path: String) throws -> Image {
        do {
            return try decode(try FileIO.read(path))
        } catch let error as KilnError {
            throw KilnError(error.code, "\(path): \(error.message)")
        }
    }

    public static func write(_ image: Image, to path: String, format: ImageFormat? = nil, quality: Int = 95) throws {
        guard let format = format ?? ImageFormat.from(path: path) else {
            throw KilnError.invalidArgument("\(path): name the file .png, .jpg or .jpeg (or give the format)")
        }
        try FileIO.write(try encode(image, as: format, quality: quality), to: path)
    }

    /// Size, channels and format from the header only.
    public static func info(_ bytes: [UInt8]) throws -> (width: Int, height: Int, channels: Int, format: ImageFormat) {
        switch ImageFormat.detect(bytes) {
        case .jpeg:
            let header = try JPEG.header(bytes)
            let oriented = EXIFOrientation.read(jpeg: bytes).swapsAxes
            return (oriented ? header.height : header.width, oriented ? header.width : header.height, header.channels, .jpeg)
        case .png:
            let header = try PNG.header(bytes)
            return (header.width, header.height, header.channels, .png)
        case nil: throw KilnError.format("not a JPEG or PNG image (unknown signature)")
        }
    }
}
