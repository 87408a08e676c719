import KilnCore

/// An augmentation pipeline described in JSON with albumentations' names:
/// `{"transforms": [{"name": "Rotate", "limit": 30, "p": 0.5}, ...]}`. Sample `index` of a run
/// with `seed` draws every random number from Philox stream `index` of `seed`, so its output
/// depends on (seed, index) alone, whatever the threads or batches.
public struct Pipeline: Sendable {
    let root: Composition
    /// The final Normalize, which turns the uint8 image into float32.
    public let normalize: NormalizeStep?
    /// The one-pass rendering of the training pipeline's shape, when the steps have it.
    let fused: FusedPlan?

    public struct NormalizeStep: Sendable, Equatable {
        public let mean: [Double]
        public let std: [Double]
        public let layout: Normalize.Layout
        /// The per-channel tables for 1, 3 and 4 channels, computed once (not per image).
        private let tables: [[Float]]

        public init(mean: [Double], std: [Double], layout: Normalize.Layout) {
            (self.mean, self.std, self.layout) = (mean, std, layout)
            tables = (0...4).map { Normalize.tables(channels: $0, mean: mean, std: std) }
        }

        /// One 256-entry table per channel.
        func tables(channels: Int) -> [Float] { tables[channels] }

        /// Value / 255, in CHW: without a Normalize step.
        static let unit = NormalizeStep(mean: [0], std: [1], layout: .chw)
    }

    /// What one sample came out as.
    public struct Sample: Sendable {
        /// The augmented image (before Normalize).
        public var image: Image
        public var replay: [AppliedTransform]
    }

    public init(json text: String) throws {
        let value: JSONValue
        do { value = try JSONValue.parse(text) } catch { throw KilnError.invalidArgument("pipeline: not valid JSON: \(error)") }
        try self.init(json: value)
    }

    public init(json: JSONValue) throws {
        var spec = try SpecObject(json, path: "pipeline")
        guard let list = spec.value("transforms")?.arrayValue else {
            throw KilnError.invalidArgument("pipeline.transforms: a list of transforms is required")
        }
        try spec.rejectUnknownFields(["p"])
        var children = try list.enumerated().map { try Self.parse($1, path: "pipeline.transforms[\($0)]") }
        var normalize: NormalizeStep? = nil
        if let index = children.firstIndex(where: { $0 is NormalizeMarker }) {
            guard index == children.count - 1 else {
                throw KilnError.invalidArgument("pipeline.transforms[\(index)]: Normalize must be the last transform (it makes float32)")
            }
            normalize = (children.removeLast() as! NormalizeMarker).step
        }
        root = Composition(name: "Compose", probability: try spec.double("p") ?? 1, kind: .compose, children: children)
        self.normalize = normalize
        fused = FusedPlan(root)
    }

    /// Augments sample `index` of a run seeded with `seed`.
    public func sample(_ image: Image, seed: UInt64, index: Int) throws -> Sample {
        var random = Philox(seed: seed).stream(UInt64(index))
        var replay: [AppliedTransform] = []
        let output = try Self.apply(root, image, &random, &replay)
        return Sample(image: output, replay: replay)
    }

    /// The float32 output of one sample: Normalize's, or value / 255 without one; HWC or CHW.
    public func tensorValues(_ image: Image, into output: UnsafeMutablePointer<Float>) {
        let step = normalize ?? .unit
        Normalize.apply(image, tables: step.tables(channels: image.channels), layout: step.layout, into: output)
    }

    /// Augments `images` as samples `startIndex ..< startIndex + count` on Kiln's threads,
    /// straight into one `[N, C, H, W]` (or `[N, H, W, C]` for Normalize's HWC) float32 tensor.
    /// Every sample must come out the same size (end with a Resize or a crop).
    public func batch(_ images: [Image], seed: UInt64, startIndex: Int = 0, threads: Int = Threads.count) throws -> Tensor {
        let shape = try batchShape(images, seed: seed, startIndex: startIndex)
        var tensor = try Tensor(zeros: shape, dtype: .float32)
        try tensor.withUnsafeMutableBufferPointer(as: Float.self) { buffer in
            try batch(images, seed: seed, startIndex: startIndex, threads: threads, shape: shape, into: buffer)
        }
        return tensor
    }

    /// The shape `batch` produces: that of the first sample, times the count.
    public func batchShape(_ images: [Image], seed: UInt64, startIndex: Int = 0) throws -> [Int] {
        guard let image = images.first else { throw KilnError.invalidArgument("batch: no images") }
        return try batchShape(first: image, count: images.count, seed: seed, startIndex: startIndex)
    }

    /// The shape of a batch of `count` images whose first is `first`: known from the steps when
    /// the one-pass rendering always resizes, else that of the first sample augmented.
    public func batchShape(first image: Image, count: Int, seed: UInt64, startIndex: Int = 0) throws -> [Int] {
        try batchShape(count: count, channels: image.channels, seed: seed, startIndex: startIndex) { image }
    }

    /// `batchShape` for a first image of `channels` channels that `first` gives only when the
    /// steps do not fix the size (a view need not be copied to learn the shape).
    public func batchShape(count: Int, channels firstChannels: Int, seed: UInt64, startIndex: Int, first: () throws -> Image) throws -> [Int] {
        let (width, height, channels): (Int, Int, Int)
        if let size = fused?.outputSize(root: root) {
            (width, height, channels) = (size.width, size.height, firstChannels)
        } else {
            let sample = try sample(try first(), seed: seed, index: startIndex).image
            (width, height, channels) = (sample.width, sample.height, sample.channels)
        }
        return (normalize?.layout ?? .chw) == .chw ? [count, channels, height, width] : [count, height, width, channels]
    }

    /// `batch` into caller memory of exactly `batchShape`'s size; returns that shape.
    @discardableResult
    public func batch(_ images: [Image], seed: UInt64, startIndex: Int = 0, threads: Int = Threads.count,
                      into output: UnsafeMutableBufferPointer<Float>) throws -> [Int] {
        let shape = try batchShape(images, seed: seed, startIndex: startIndex)
        try batch(images, seed: seed, startIndex: startIndex, threads: threads, shape: shape, into: output)
        return shape
    }

    /// `batch` of images read in place (numpy arrays from the C and Python bindings): the
    /// one-pass pipeline reads them where they are; a sample that needs the step-by-step path is
    /// copied first.
    @discardableResult
    public func batch(views: [PixelView], seed: UInt64, startIndex: Int = 0, threads: Int = Threads.count,
                      into output: UnsafeMutableBufferPointer<Float>) throws -> [Int] {
        guard let first = views.first else { throw KilnError.invalidArgument("batch: no images") }
        let shape = try batchShape(count: views.count, channels: first.channels, seed: seed, startIndex: startIndex) { try first.image() }
        try batch(views.count, seed: seed, startIndex: startIndex, threads: threads, shape: shape, into: output,
                  withView: { position, body in body(views[position]) }, image: { try views[$0].image() })
        return shape
    }

    /// `batch` for a shape already computed by `batchShape` (which augments the first sample once).
    private func batch(_ images: [Image], seed: UInt64, startIndex: Int, threads: Int, shape: [Int],
                       into output: UnsafeMutableBufferPointer<Float>) throws {
        try batch(images.count, seed: seed, startIndex: startIndex, threads: threads, shape: shape, into: output,
                  withView: { position, body in images[position].withView(body) }, image: { images[$0] })
    }

    /// Sample `startIndex + position` of every position: the one-pass rendering from the
    /// position's pixels (handed to the closure `withView` is given) when the pipeline has its
    /// shape, else the steps on `image(position)`.
    private func batch(_ count: Int, seed: UInt64, startIndex: Int, threads: Int, shape: [Int],
                       into output: UnsafeMutableBufferPointer<Float>,
                       withView: @escaping @Sendable (Int, (PixelView) -> Bool) -> Bool,
                       image: @escaping @Sendable (Int) throws -> Image) throws {
        let perSample = shape.dropFirst().reduce(1, *)
        let layout = normalize?.layout ?? .chw
        guard output.count == perSample * count, let start = output.baseAddress else {
            throw KilnError.shapeMismatch("batch: the output holds \(output.count) floats, the batch needs \(perSample * count) (\(shape))")
        }
        let base = UncheckedSendable(start)
        let failure = UncheckedSendable(LockedError())
        let (width, height, channels) = layout == .chw ? (shape[3], shape[2], shape[1]) : (shape[2], shape[1], shape[3])
        Parallel.forEach(count, threads: threads) { range in
            // The one-pass rendering draws each sample one ahead, so that the kernel can ask for
            // the next sample's first rows while it finishes the current one.
            var drawn: (position: Int, draw: FusedPlan.Draw?)? = nil
            for position in range {
                do {
                    if let fused, withView(position, { view in
                        func draw(_ view: PixelView, _ position: Int) -> FusedPlan.Draw? {
                            fused.draw(view, root: root, width: width, height: height, channels: channels, seed: seed,
                                       index: startIndex + position)
                        }
                        guard let current = drawn?.position == position ? drawn!.draw : draw(view, position) else { return false }
                        var next: PlanarResample.NextRows? = nil
                        if position + 1 < range.upperBound {
                            _ = withView(position + 1) { view in
                                drawn = (position + 1, draw(view, position + 1))
                                next = drawn!.draw.map { PlanarResample.NextRows(view, window: $0.window, flipY: $0.flipY) }
                                return true
                            }
                        }
                        fused.render(view, current, normalize: normalize, next: next, into: base.value + position * perSample)
                        return true
                    }) {
                        continue
                    }
                    let output = try sample(try image(position), seed: seed, index: startIndex + position).image
                    guard output.width * output.height * output.channels == perSample,
                          shape == [count, output.channels, output.height, output.width]
                            || shape == [count, output.height, output.width, output.channels] else {
                        throw KilnError.shapeMismatch("batch: sample \(startIndex + position) came out \(output.height)×\(output.width)×\(output.channels), sample \(startIndex) \(shape.dropFirst().map(String.init).joined(separator: "×")): end the pipeline with a Resize or a crop")
                    }
                    tensorValues(output, into: base.value + position * perSample)
                } catch {
                    failure.value.record(error)
                }
            }
        }
        if let error = failure.value.first { throw error }
    }

    static func apply(_ step: any Augmentation, _ image: Image, _ random: inout PhiloxStream,
                      _ replay: inout [AppliedTransform], forced: Bool = false) throws -> Image {
        if let composition = step as? Composition {
            let draw = random.nextUnitDouble()
            guard forced || draw < composition.probability else { return image }
            return try composition.run(image, &random, &replay)
        }
        return try step.apply(image, &random, &replay, forced: forced)
    }
}

/// The first error of a parallel loop.
final class LockedError: @unchecked Sendable {
    private let lock = NSLockLike()
    private(set) var first: Error?

    func record(_ error: Error) {
        lock.withLock { if first == nil { first = error } }
    }
}

/// A pthread mutex (Foundation is not imported here).
final class NSLockLike: @unchecked Sendable {
    private var mutex = pthread_mutex_t()
    init() { pthread_mutex_init(&mutex, nil) }
    deinit { pthread_mutex_destroy(&mutex) }
    func withLock<T>(_ body: () throws -> T) rethrows -> T {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        return try body()
    }
}

/// Normalize while parsing; the pipeline keeps it as its `normalize` step.
struct NormalizeMarker: Augmentation {
    let name = "Normalize"
    let probability = 1.0
    let step: Pipeline.NormalizeStep

    func transform(_ image: Image, _ random: inout PhiloxStream, _ parameters: inout [AppliedTransform.Parameter]) throws -> Image { image }
}

#if canImport(Glibc)
import Glibc
#endif
