import KilnCore
import KilnNN
import KilnVision

/// `preprocess.json` of a model version: how an image request becomes the model's input —
/// `{"channels": 1 | 3, "transforms": [...]}`, the transforms as `kiln augment` reads them
/// (deterministic ones: Resize, CenterCrop, PadIfNeeded, Normalize ...), run as sample 0 of seed 0.
public struct ImagePreprocess: Sendable {
    public let channels: Int?
    public let pipeline: Pipeline
    /// The largest image a request may hold (width × height), 40 megapixels.
    static let maximumPixels = 40_000_000

    public init(json text: String) throws {
        var spec = try SpecObject(try JSONValue.parse(text), path: "preprocess")
        channels = try spec.int("channels", minimum: 1)
        if let channels, ![1, 3, 4].contains(channels) { throw spec.error("channels", "is 1, 3 or 4") }
        guard let transforms = spec.value("transforms") else { throw spec.error("transforms", "is required") }
        try spec.rejectUnknownFields()
        pipeline = try Pipeline(json: .object([("transforms", transforms)]))
    }

    /// Decoded images (JPEG or PNG bytes) → the model's input tensor.
    func tensor(_ images: [[UInt8]]) throws -> Tensor {
        let decoded = try images.enumerated().map { index, bytes -> Image in
            do {
                // A small file can declare a huge image: refuse it from the header, before decoding.
                let header = try ImageCodec.info(bytes)
                guard header.width * header.height <= Self.maximumPixels else {
                    throw KilnError.invalidArgument("the image is \(header.width)×\(header.height); at most \(Self.maximumPixels) pixels are decoded")
                }
                return try converted(try ImageCodec.decode(bytes))
            } catch let error as KilnError {
                throw KilnError(error.code, "instances[\(index)]: \(error.message)")
            }
        }
        return try pipeline.batch(decoded, seed: 0, startIndex: 0)
    }

    /// The image with the channel count the model takes: grey as `cv2.COLOR_RGB2GRAY`, grey
    /// repeated into RGB, alpha dropped.
    private func converted(_ image: Image) throws -> Image {
        guard let channels, channels != image.channels else { return image }
        let count = image.width * image.height
        var pixels = [UInt8](repeating: 255, count: count * channels)
        for index in 0..<count {
            let source = index * image.channels
            if channels == 1 {
                pixels[index] = image.channels >= 3
                    ? Color.gray(image.pixels[source], image.pixels[source + 1], image.pixels[source + 2]) : image.pixels[source]
            } else {
                for c in 0..<min(channels, 3) { pixels[index * channels + c] = image.pixels[source + (image.channels >= 3 ? c : 0)] }
                if channels == 4, image.channels == 4 { pixels[index * 4 + 3] = image.pixels[source + 3] }
            }
        }
        return try Image(width: image.width, height: image.height, channels: channels, pixels: pixels)
    }
}

extension Predict {
    /// The image bytes of `{"b64": "..."}` instances (or `{"<input>": {"b64": ...}}`), nil when the
    /// instances are not images.
    static func imageInstances(_ rows: [JSONValue], input: String) throws -> [[UInt8]]? {
        func encoded(_ row: JSONValue) -> String? {
            if let text = row["b64"]?.stringValue { return text }
            return row[input]?["b64"]?.stringValue
        }
        guard rows.contains(where: { encoded($0) != nil }) else { return nil }
        return try rows.enumerated().map { index, row in
            guard let text = encoded(row) else { throw KilnError.invalidArgument("instances[\(index)]: expected {\"b64\": \"...\"} like the others") }
            do { return try Base64.decode(text) } catch let error as KilnError {
                throw KilnError.invalidArgument("instances[\(index)].b64: \(error.message)")
            }
        }
    }

    /// Images through the model's `preprocess.json`, then the model: predictions per image.
    static func runImages(_ images: [[UInt8]], on served: ServedModel) async throws -> JSONValue {
        guard let preprocess = served.preprocess else {
            throw KilnError.invalidArgument("model '\(served.name)' takes tensors: it has no preprocess.json for images")
        }
        let inputs = served.model.inputs
        guard inputs.count == 1 else { throw KilnError.invalidArgument("image requests need a model with one input, this one has \(inputs.count)") }
        return try rows(try await served.infer([inputs[0].name: try preprocess.tensor(images)]), count: images.count, served)
    }
}
