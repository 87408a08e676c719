import KilnCore
import KilnVision

/// `kiln bench augment`: each augmentation alone on a uint8 RGB image of `size`², and the
/// training pipeline (RandomResizedCrop 224 + HorizontalFlip + RandomBrightnessContrast +
/// Normalize to CHW float32) on a batch of 64 distinct 512² images — the cases of
/// PERFORMANCE.md, named as albumentations names the ops.
public enum AugmentSuite {
    public static let pipelineSpec = """
        {"transforms": [{"name": "RandomResizedCrop", "size": [224, 224]}, {"name": "HorizontalFlip", "p": 0.5},
                        {"name": "RandomBrightnessContrast", "p": 0.5},
                        {"name": "Normalize", "mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225], "layout": "CHW"}]}
        """

    /// The single-op cases: name and the transform's JSON (every op with p = 1).
    public static let operations: [(String, String)] = [
        ("HorizontalFlip", #"{"name": "HorizontalFlip", "p": 1}"#),
        ("VerticalFlip", #"{"name": "VerticalFlip", "p": 1}"#),
        ("Rotate", #"{"name": "Rotate", "limit": 30, "interpolation": "bilinear", "border_mode": "constant", "p": 1}"#),
        ("Affine", #"{"name": "Affine", "scale": [0.9, 1.1], "rotate": 15, "shear": 10, "translate_percent": 0.05, "p": 1}"#),
        ("RandomResizedCrop", #"{"name": "RandomResizedCrop", "size": [224, 224], "p": 1}"#),
        ("Resize", #"{"name": "Resize", "height": 224, "width": 224}"#),
        ("CenterCrop", #"{"name": "CenterCrop", "height": 200, "width": 200}"#),
        ("RandomCrop", #"{"name": "RandomCrop", "height": 200, "width": 200}"#),
        ("PadIfNeeded", #"{"name": "PadIfNeeded", "min_height": 600, "min_width": 600, "border_mode": "reflect_101"}"#),
        ("RandomBrightnessContrast", #"{"name": "RandomBrightnessContrast", "p": 1}"#),
        ("HueSaturationValue", #"{"name": "HueSaturationValue", "p": 1}"#),
        ("ToGray", #"{"name": "ToGray", "p": 1}"#),
        ("GaussNoise", #"{"name": "GaussNoise", "std_range": [0.02, 0.1], "p": 1}"#),
        ("GaussianBlur", #"{"name": "GaussianBlur", "sigma_limit": [0.5, 1.5], "p": 1}"#),
        ("CoarseDropout", #"{"name": "CoarseDropout", "num_holes_range": [1, 4], "p": 1}"#),
        ("Normalize", #"{"name": "Normalize", "layout": "CHW"}"#),
    ]

    /// Distinct `size`² RGB images cut from the photos.
    public static func images(from photos: [Image], size: Int, count: Int) throws -> [Image] {
        try (0..<count).map { index in
            let photo = photos[index % photos.count]
            let side = min(photo.width, photo.height) * (8 + index % 3) / 10
            let x = (photo.width - side) * (index % 5) / 4, y = (photo.height - side) * (index % 7) / 6
            let square = try Geometry.crop(photo, x: x, y: y, width: side, height: side)
            let rgb = square.channels == 3 ? square : try Image(width: side, height: side, channels: 3,
                pixels: square.pixels.enumerated().compactMap { square.channels == 4 ? ($0.offset % 4 == 3 ? nil : $0.element) : nil })
            return try Resize.resize(rgb, width: size, height: size, interpolation: .area)
        }
    }

    public static func run(photos: [Image], size: Int, cases: Set<String>?, runs: Int, warmup: Int) throws -> [BenchmarkResult] {
        var results: [BenchmarkResult] = []
        let inputs = try images(from: photos, size: size, count: 16)
        let small = try images(from: photos, size: 256, count: 16)
        for (name, transform) in operations where cases?.contains(name) ?? true {
            if name == "Resize" && size != 224 { continue }  // PERFORMANCE.md: 256² -> 224²
            let pipeline = try Pipeline(json: #"{"transforms": [\#(transform)]}"#)
            let sources = name == "Resize" ? small : inputs
            var index = 0
            var output = [Float](repeating: 0, count: size * size * 3)
            let perRun = 16
            let samples = try Stopwatch.sample(runs: runs, warmup: warmup) {
                for image in sources {
                    if pipeline.normalize != nil {
                        output.withUnsafeMutableBufferPointer { pipeline.tensorValues(image, into: $0.baseAddress!) }
                    } else {
                        _ = try pipeline.sample(image, seed: 1, index: index)
                    }
                    index += 1
                }
            }
            results.append(BenchmarkResult(suite: "augment", name: name, samplesMilliseconds: samples, unit: .imagesPerSecond,
                                           workPerRun: Double(perRun), details: [("size", .int(size))]))
        }
        if cases?.contains("pipeline") ?? true {
            let pipeline = try Pipeline(json: pipelineSpec)
            let batch = try images(from: photos, size: 512, count: 64)
            // One batch tensor, written again each run (as a training loop reuses its buffer).
            var output = try Tensor(zeros: [64, 3, 224, 224], dtype: .float32)
            // Batches like the pipeline's moved without the arithmetic, alternating with it: of
            // other samples than the pipeline's run beside it (the same crop windows would find
            // the rows the other run read still in the last-level cache, flattering whichever ran
            // second), as the pipeline's runs each take samples the run before did not.
            let floor = try MemoryFloor(pipeline: pipeline, images: batch, count: 2 * (warmup + runs) * 64)
            var samples: [Double] = [], floorSamples: [Double] = [], checksum: UInt8 = 0
            for run in 0..<(warmup + runs) {
                let pipelineRun = {
                    _ = try output.withUnsafeMutableBufferPointer(as: Float.self) { buffer in
                        try pipeline.batch(batch, seed: 1, startIndex: run * 64, threads: Threads.count, into: buffer)
                    }
                }
                let floorRun = {
                    try output.withUnsafeMutableBufferPointer(as: Float.self) {
                        checksum &+= floor.run(batch, start: (warmup + runs + run) * 64, into: $0.baseAddress!)
                    }
                }
                let pipelineMs: Double, floorMs: Double
                if run % 2 == 0 {
                    pipelineMs = try Stopwatch.milliseconds(pipelineRun)
                    floorMs = try Stopwatch.milliseconds(floorRun)
                } else {
                    floorMs = try Stopwatch.milliseconds(floorRun)
                    pipelineMs = try Stopwatch.milliseconds(pipelineRun)
                }
                if run >= warmup {
                    samples.append(pipelineMs)
                    floorSamples.append(floorMs)
                }
            }
            results.append(BenchmarkResult(suite: "augment", name: "pipeline", samplesMilliseconds: samples, unit: .imagesPerSecond,
                                           workPerRun: 64, details: [("size", .int(512)), ("batch", .int(64)), ("threads", .int(Threads.count)),
                                                                     ("memory_floor_samples_ms", .array(floorSamples.map(JSONValue.double)))]))
            blackHole(checksum)
        }
        return results
    }
}
