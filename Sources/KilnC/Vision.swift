// Images and augmentation: decode, encode, pipelines, one image, batches into caller memory.
import CKilnHeader
import KilnCore
import KilnVision

#if canImport(Glibc)
import Glibc
#endif

final class ImageHandle {
    let image: Image
    init(_ image: Image) { self.image = image }
}

final class PipelineHandle {
    let pipeline: Pipeline
    init(_ pipeline: Pipeline) { self.pipeline = pipeline }
}

/// The image a view describes (its strides walked once).
private func image(_ view: UnsafePointer<kiln_image_view>?, _ what: String) throws -> Image {
    guard let view = view?.pointee else { throw KilnError(.nullPointer, "\(what) is NULL") }
    guard let data = view.data else { throw KilnError(.nullPointer, "\(what).data is NULL") }
    return try Image(copying: UnsafeRawPointer(data), width: Int(view.width), height: Int(view.height), channels: Int(view.channels),
                     rowStride: Int(view.row_stride), pixelStride: Int(view.pixel_stride), channelStride: Int(view.channel_stride))
}

/// The views as `PixelView`s when every one has packed pixels (pixel stride = channels, channel
/// stride 1); nil when one does not.
private func packedViews(_ views: UnsafePointer<kiln_image_view>, _ count: Int) throws -> [PixelView]? {
    var packed: [PixelView] = []
    for index in 0..<count {
        let view = views[index]
        guard let data = view.data else { throw KilnError(.nullPointer, "images[\(index)].data is NULL") }
        guard view.pixel_stride == view.channels, view.channel_stride == 1 else { return nil }
        packed.append(try PixelView(base: UnsafeRawPointer(data), width: Int(view.width), height: Int(view.height),
                                    channels: Int(view.channels), rowStride: Int(view.row_stride)))
    }
    return packed
}

@_cdecl("kiln_image_decode")
public func kiln_image_decode(_ bytes: UnsafeRawPointer?, _ size: Int, _ out: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    out?.pointee = nil
    return withStatus {
        let target = try output(out, "out_image")
        guard let bytes else { throw KilnError(.nullPointer, "bytes is NULL") }
        let data = Array(UnsafeRawBufferPointer(start: bytes, count: size))
        target.pointee = retained(ImageHandle(try ImageCodec.decode(data)))
    }
}

@_cdecl("kiln_image_decode_into")
public func kiln_image_decode_into(_ bytes: UnsafeRawPointer?, _ size: Int, _ out: UnsafeMutablePointer<UInt8>?, _ outSize: Int,
                                   _ height: UnsafeMutablePointer<Int64>?, _ width: UnsafeMutablePointer<Int64>?,
                                   _ channels: UnsafeMutablePointer<Int64>?) -> Int32 {
    withStatus {
        let (heightTarget, widthTarget, channelsTarget) = (try output(height, "out_height"), try output(width, "out_width"),
                                                           try output(channels, "out_channels"))
        guard let bytes else { throw KilnError(.nullPointer, "bytes is NULL") }
        let data = Array(UnsafeRawBufferPointer(start: bytes, count: size))
        let decoded: (width: Int, height: Int, channels: Int)
        if let out {
            decoded = try ImageCodec.decode(data, into: UnsafeMutableRawBufferPointer(start: out, count: outSize))
        } else {
            let info = try ImageCodec.info(data)
            decoded = (info.width, info.height, info.channels)
        }
        (heightTarget.pointee, widthTarget.pointee, channelsTarget.pointee) = (Int64(decoded.height), Int64(decoded.width), Int64(decoded.channels))
    }
}

@_cdecl("kiln_image_info")
public func kiln_image_info(_ handle: OpaquePointer?, _ height: UnsafeMutablePointer<Int64>?, _ width: UnsafeMutablePointer<Int64>?,
                            _ channels: UnsafeMutablePointer<Int64>?) -> Int32 {
    withStatus {
        let image = try borrowed(handle, ImageHandle.self, "image").image
        try output(height, "out_height").pointee = Int64(image.height)
        try output(width, "out_width").pointee = Int64(image.width)
        try output(channels, "out_channels").pointee = Int64(image.channels)
    }
}

@_cdecl("kiln_image_copy")
public func kiln_image_copy(_ handle: OpaquePointer?, _ out: UnsafeMutablePointer<UInt8>?, _ size: Int) -> Int32 {
    withStatus {
        let image = try borrowed(handle, ImageHandle.self, "image").image
        let target = try output(out, "out")
        guard size == image.pixels.count else {
            throw KilnError.shapeMismatch("out holds \(size) bytes, the image has \(image.pixels.count)")
        }
        image.pixels.withUnsafeBufferPointer { target.update(from: $0.baseAddress!, count: size) }
    }
}

@_cdecl("kiln_image_free")
public func kiln_image_free(_ handle: OpaquePointer?) { release(handle, ImageHandle.self) }

@_cdecl("kiln_image_encode")
public func kiln_image_encode(_ view: UnsafePointer<kiln_image_view>?, _ format: UnsafePointer<CChar>?, _ quality: Int32,
                              _ out: UnsafeMutablePointer<UnsafeMutableRawPointer?>?, _ outSize: UnsafeMutablePointer<Int>?) -> Int32 {
    out?.pointee = nil
    outSize?.pointee = 0
    return withStatus {
        let source = try image(view, "image")
        let name = try string(format, "format")
        guard let kind = ImageFormat(rawValue: name == "jpg" ? "jpeg" : name) else {
            throw KilnError.invalidArgument("format is \"png\" or \"jpeg\", got \"\(name)\"")
        }
        let bytes = try ImageCodec.encode(source, as: kind, quality: Int(quality))
        let target = try output(out, "out_bytes"), sizeTarget = try output(outSize, "out_size")
        guard let memory = malloc(max(bytes.count, 1)) else { throw KilnError(.outOfMemory, "cannot allocate \(bytes.count) bytes") }
        bytes.withUnsafeBytes { memory.copyMemory(from: $0.baseAddress!, byteCount: bytes.count) }
        target.pointee = memory
        sizeTarget.pointee = bytes.count
    }
}

@_cdecl("kiln_augment_pipeline_create")
public func kiln_augment_pipeline_create(_ json: UnsafePointer<CChar>?, _ out: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    out?.pointee = nil
    return withStatus {
        let target = try output(out, "out_pipeline")
        target.pointee = retained(PipelineHandle(try Pipeline(json: try string(json, "json"))))
    }
}

@_cdecl("kiln_augment_pipeline_free")
public func kiln_augment_pipeline_free(_ handle: OpaquePointer?) { release(handle, PipelineHandle.self) }

@_cdecl("kiln_augment_pipeline_info")
public func kiln_augment_pipeline_info(_ handle: OpaquePointer?, _ normalizes: UnsafeMutablePointer<Int32>?,
                                       _ chw: UnsafeMutablePointer<Int32>?) -> Int32 {
    withStatus {
        let pipeline = try borrowed(handle, PipelineHandle.self, "pipeline").pipeline
        try output(normalizes, "out_normalizes").pointee = pipeline.normalize == nil ? 0 : 1
        try output(chw, "out_chw").pointee = (pipeline.normalize?.layout ?? .chw) == .chw ? 1 : 0
    }
}

@_cdecl("kiln_augment_apply")
public func kiln_augment_apply(_ handle: OpaquePointer?, _ view: UnsafePointer<kiln_image_view>?, _ seed: UInt64, _ index: Int64,
                               _ out: UnsafeMutablePointer<OpaquePointer?>?,
                               _ replay: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    out?.pointee = nil
    replay?.pointee = nil
    return withStatus {
        let pipeline = try borrowed(handle, PipelineHandle.self, "pipeline").pipeline
        let target = try output(out, "out_image")
        let sample = try pipeline.sample(try image(view, "image"), seed: seed, index: Int(index))
        if let replay { replay.pointee = try ownedCString(JSONValue.array(sample.replay.map(\.json)).text) }
        target.pointee = retained(ImageHandle(sample.image))
    }
}

@_cdecl("kiln_augment_apply_into")
public func kiln_augment_apply_into(_ handle: OpaquePointer?, _ view: UnsafePointer<kiln_image_view>?, _ seed: UInt64, _ index: Int64,
                                    _ out: UnsafeMutablePointer<UInt8>?, _ outSize: Int, _ outShape: UnsafeMutablePointer<Int64>?) -> Int32 {
    withStatus {
        let pipeline = try borrowed(handle, PipelineHandle.self, "pipeline").pipeline
        let shapeTarget = try output(outShape, "out_shape")
        let image = try pipeline.sample(try image(view, "image"), seed: seed, index: Int(index)).image
        (shapeTarget[0], shapeTarget[1], shapeTarget[2]) = (Int64(image.height), Int64(image.width), Int64(image.channels))
        guard outSize == image.pixels.count else {
            throw KilnError.shapeMismatch("out holds \(outSize) bytes, the sample is \(image.height)×\(image.width)×\(image.channels) = \(image.pixels.count)")
        }
        let target = try output(out, "out")
        image.pixels.withUnsafeBufferPointer { target.update(from: $0.baseAddress!, count: outSize) }
    }
}

@_cdecl("kiln_augment_batch")
public func kiln_augment_batch(_ handle: OpaquePointer?, _ views: UnsafePointer<kiln_image_view>?, _ count: Int, _ seed: UInt64,
                               _ startIndex: Int64, _ out: UnsafeMutablePointer<Float>?, _ outCount: Int,
                               _ outShape: UnsafeMutablePointer<Int64>?) -> Int32 {
    withStatus {
        let pipeline = try borrowed(handle, PipelineHandle.self, "pipeline").pipeline
        let shapeTarget = try output(outShape, "out_shape")
        guard count > 0 else { throw KilnError.invalidArgument("count must be at least 1") }
        guard let views else { throw KilnError(.nullPointer, "images is NULL") }
        let shape: [Int]
        if let out {
            let target = UnsafeMutableBufferPointer(start: out, count: outCount)
            if let packed = try packedViews(views, count) {
                // Rows of packed pixels (numpy's usual layouts): read in place, no copy.
                shape = try pipeline.batch(views: packed, seed: seed, startIndex: Int(startIndex), into: target)
            } else {
                let images = try (0..<count).map { try image(views + $0, "images[\($0)]") }
                shape = try pipeline.batch(images, seed: seed, startIndex: Int(startIndex), into: target)
            }
        } else {
            // The shape query needs the first image's channels, or (when the steps do not fix
            // the size) the first image itself: copied at most once, and only then.
            var copied: Image?
            func first() throws -> Image {
                if let copied { return copied }
                copied = try image(views, "images[0]")
                return copied!
            }
            let channels = try packedViews(views, 1)?.first?.channels ?? first().channels
            shape = try pipeline.batchShape(count: count, channels: channels, seed: seed, startIndex: Int(startIndex), first: first)
        }
        for (axis, size) in shape.enumerated() { shapeTarget[axis] = Int64(size) }
    }
}

@_cdecl("kiln_image_folder_scan")
public func kiln_image_folder_scan(_ root: UnsafePointer<CChar>?, _ out: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    out?.pointee = nil
    return withStatus {
        let target = try output(out, "out_json")
        let folder = try ImageFolder(path: try string(root, "root"))
        let json = JSONValue.object([("classes", .array(folder.classes.map { .string($0) })),
                                     ("paths", .array(folder.paths.map { .string($0) })),
                                     ("labels", .array(folder.labels.map { .int($0) }))])
        target.pointee = try ownedCString(json.text)
    }
}

private func labels(_ pointer: UnsafePointer<Int64>?, _ count: Int) throws -> [Int] {
    guard let pointer else { throw KilnError(.nullPointer, "labels is NULL") }
    return (0..<count).map { Int(pointer[$0]) }
}

@_cdecl("kiln_class_weights")
public func kiln_class_weights(_ labelPointer: UnsafePointer<Int64>?, _ count: Int, _ classCount: Int,
                               _ out: UnsafeMutablePointer<Double>?) -> Int32 {
    withStatus {
        let target = try output(out, "out_weights")
        let weights = try ClassBalance.weights(labels: try labels(labelPointer, count), classCount: classCount)
        for (index, weight) in weights.enumerated() { target[index] = weight }
    }
}

@_cdecl("kiln_class_balanced_sample")
public func kiln_class_balanced_sample(_ labelPointer: UnsafePointer<Int64>?, _ count: Int, _ classCount: Int,
                                       _ targetWeights: UnsafePointer<Double>?, _ seed: UInt64, _ start: Int64,
                                       _ out: UnsafeMutablePointer<Int64>?, _ outCount: Int) -> Int32 {
    withStatus {
        let target = try output(out, "out_indices")
        let weights = targetWeights.map { pointer in (0..<classCount).map { pointer[$0] } }
        let indices = try ClassBalance.sample(labels: try labels(labelPointer, count), count: outCount, seed: seed,
                                              start: Int(start), target: weights, classCount: classCount)
        for (position, index) in indices.enumerated() { target[position] = Int64(index) }
    }
}
