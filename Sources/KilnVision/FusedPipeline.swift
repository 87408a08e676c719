import CKilnSupport
import KilnCore

/// The training pipeline's shape — one bilinear resample (RandomResizedCrop or Resize), then any
/// flips and brightness/contrast changes, then Normalize — rendered in one pass per sample: the
/// crop window is resampled with Resize's integer arithmetic, flips pick where each value goes,
/// the brightness/contrast changes become one map of the levels and Normalize a fused
/// multiply-add (RGB to CHW: `PlanarResample`), or one float table per channel (other layouts). The
/// same random draws in the same order as the step-by-step path, and the same values: the
/// step-by-step path is the reference (tests compare them).
struct FusedPlan: Sendable {
    let resample: any Augmentation
    /// What the resampling step makes.
    let size: (width: Int, height: Int)
    let tail: [any Augmentation]

    /// The plan for `pipeline`'s steps, or nil when they do not have this shape.
    init?(_ root: Composition) {
        guard case .compose = root.kind, let first = root.children.first else { return nil }
        if let resize = first as? ResizeTransform, resize.interpolation == .bilinear {
            (resample, size) = (resize, (resize.width, resize.height))
        } else if let crop = first as? RandomResizedCrop, crop.interpolation == .bilinear {
            (resample, size) = (crop, (crop.width, crop.height))
        } else {
            return nil
        }
        tail = Array(root.children.dropFirst())
        guard tail.allSatisfy({ $0 is Flip || $0 is BrightnessContrast }) else { return nil }
    }

    /// Every sample's size, when the resampling step always runs: (width, height).
    func outputSize(root: Composition) -> (width: Int, height: Int)? {
        root.probability >= 1 && resample.probability >= 1 ? size : nil
    }

    /// What sample `index` drew: the crop window, the flips and the map of the levels.
    struct Draw {
        let window: (x: Int, y: Int, width: Int, height: Int)
        let flipX: Bool
        let flipY: Bool
        let levels: [UInt8]?
    }

    /// The draws of sample `index` of `image`, in the step-by-step path's order; nil when the
    /// sample must take that path (a step that changes the size was not applied, or the sample
    /// does not come out `width`×`height`×`channels`).
    func draw(_ image: PixelView, root: Composition, width expectedWidth: Int, height expectedHeight: Int,
              channels expectedChannels: Int, seed: UInt64, index: Int) -> Draw? {
        guard image.channels == expectedChannels else { return nil }
        var random = Philox(seed: seed).stream(UInt64(index))
        guard random.nextUnitDouble() < root.probability else { return nil }
        // The resampling step.
        var window = (x: 0, y: 0, width: image.width, height: image.height)
        let resampleDraw = random.nextUnitDouble()
        guard resampleDraw < resample.probability else { return nil }
        if let crop = resample as? RandomResizedCrop {
            window = crop.window(width: image.width, height: image.height, &random)
        }
        guard size.width == expectedWidth, size.height == expectedHeight else { return nil }
        // Flips, and the brightness/contrast changes drawn as one map of the levels.
        var flipX = false, flipY = false
        var levels: [UInt8]? = nil
        for step in tail {
            guard random.nextUnitDouble() < step.probability else { continue }
            if let flip = step as? Flip {
                if flip.horizontal { flipX.toggle() } else { flipY.toggle() }
            } else if let change = step as? BrightnessContrast {
                let b = change.brightness.sample(&random), c = change.contrast.sample(&random)
                let next = Color.brightnessContrastTable(brightness: b, contrast: c)
                levels = levels.map { $0.map { next[Int($0)] } } ?? next
            }
        }
        return Draw(window: window, flipX: flipX, flipY: flipY, levels: levels)
    }

    /// Renders the sample `draw` describes into `output` (the sample's slot of the batch), asking
    /// for the `next` sample's first rows while it finishes.
    func render(_ image: PixelView, _ draw: Draw, normalize: Pipeline.NormalizeStep?, next: PlanarResample.NextRows? = nil,
                into output: UnsafeMutablePointer<Float>) {
        let (window, flipX, flipY, levels) = (draw.window, draw.flipX, draw.flipY, draw.levels)
        let (width, height) = size
        let channels = image.channels
        let step = normalize ?? .unit
        if channels == 3, step.layout == .chw {
            let red = Normalize.coefficients(channel: 0, mean: step.mean, std: step.std)
            let green = Normalize.coefficients(channel: 1, mean: step.mean, std: step.std)
            let blue = Normalize.coefficients(channel: 2, mean: step.mean, std: step.std)
            if PlanarResample.bilinearRGB(image, window: window, width: width, height: height, flipX: flipX, flipY: flipY,
                                          levels: levels, scale: (red.scale, green.scale, blue.scale),
                                          offset: (red.offset, green.offset, blue.offset), next: next, into: output) {
                return
            }
        }
        let table = levels ?? (0...255).map { UInt8($0) }
        let normalizeTables = step.tables(channels: channels)
        var values = [Float](repeating: 0, count: 256 * channels)
        for c in 0..<channels {
            for value in 0..<256 { values[c * 256 + value] = normalizeTables[c * 256 + Int(table[value])] }
        }
        let plane = width * height
        // Each output row is looked up into this cache-resident row, then streamed out with
        // non-temporal stores: the batch is bigger than the caches and written once.
        let scratch = UnsafeMutablePointer<Float>.allocate(capacity: width)
        defer { scratch.deallocate() }
        values.withUnsafeBufferPointer { lookup in
            let table = lookup.baseAddress!
            Resize.bilinearRows(image, window: window, width: width, height: height) { resizedRow, row in
                let outY = flipY ? height - 1 - resizedRow : resizedRow
                if step.layout == .chw {
                    // Locals and wrapping arithmetic: nothing reloaded or checked in the inner loops.
                    let count = width, stride = channels, last = width &- 1
                    for c in 0..<channels {
                        let channelTable = table + c &* 256
                        let source = row + c
                        if flipX {
                            for x in 0..<count { scratch[last &- x] = channelTable[Int(source[x &* stride])] }
                        } else {
                            for x in 0..<count { scratch[x] = channelTable[Int(source[x &* stride])] }
                        }
                        StreamingStores.copy(scratch, to: output + (c &* plane &+ outY &* width), count: count)
                    }
                } else {
                    let target = output + outY * width * channels
                    for x in 0..<width {
                        let to = (flipX ? width - 1 - x : x) * channels
                        for c in 0..<channels { target[to + c] = table[c * 256 + Int(row[x * channels + c])] }
                    }
                }
            }
        }
        StreamingStores.fence()
    }
}
