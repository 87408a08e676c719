import CKilnSupport
import KilnCore

/// Bilinear resampling of packed RGB straight into planar float rows (CHW tensors): Resize's
/// fixed-point arithmetic, so the same levels as `Resize.bilinearRows`, then a byte map of the
/// levels (brightness/contrast) and `level · scale + offset` per channel (Normalize), in one pass
/// (`ckiln_rgb_resample`).
enum PlanarResample {
    /// Renders `window` of the RGB `image` at `width`×`height` into the three planes at `output`
    /// (`width`×`height` floats each), flipped as asked, as if flipped after resizing, each
    /// level mapped through `levels` (256 bytes) when given. False, having written nothing, when
    /// the window shrinks too steeply for the gathered taps (more than about 2.6×; see
    /// `ckiln_rgb_blocks_prepare`).
    static func bilinearRGB(_ image: PixelView, window area: (x: Int, y: Int, width: Int, height: Int), width: Int, height: Int,
                            flipX: Bool, flipY: Bool, levels: [UInt8]?, scale: (Float, Float, Float), offset: (Float, Float, Float),
                            into output: UnsafeMutablePointer<Float>) -> Bool {
        withJob(image, window: area, width: width, height: height, flipX: flipX, flipY: flipY, levels: levels, scale: scale,
                offset: offset, into: output) { ckiln_rgb_resample(&$0) } != nil
    }

    /// The `ckiln_rgb_resample_job` that renders as `bilinearRGB` says, handed to `body`; nil
    /// when the window shrinks too steeply.
    static func withJob<Result>(_ image: PixelView, window area: (x: Int, y: Int, width: Int, height: Int), width: Int,
                                height: Int, flipX: Bool, flipY: Bool, levels: [UInt8]?, scale: (Float, Float, Float),
                                offset: (Float, Float, Float), into output: UnsafeMutablePointer<Float>,
                                _ body: (inout ckiln_rgb_resample_job) -> Result) -> Result? {
        precondition(image.channels == 3, "planar resampling is for RGB")
        precondition(levels == nil || levels!.count == 256, "a level map has 256 entries")
        let xs = Resize.linearTaps(source: area.width, target: width)
        let ys = Resize.linearTaps(source: area.height, target: height)
        // The taps in output order: a horizontal flip is a mirrored order.
        var left = [Int32](repeating: 0, count: width), right = left, weight0 = left, weight1 = left
        for x in 0..<width {
            let from = flipX ? width - 1 - x : x
            left[x] = Int32(xs.index[from])
            right[x] = Int32(min(xs.index[from] + 1, area.width - 1))
            (weight0[x], weight1[x]) = (xs.weight0[from], xs.weight1[from])
        }
        let blocks = UnsafeMutablePointer<ckiln_rgb_block>.allocate(capacity: (width + 15) / 16)
        defer { blocks.deallocate() }
        guard ckiln_rgb_blocks_prepare(left, right, weight0, weight1, width, blocks) == 1 else { return nil }
        // The rows in memory order: a vertical flip is a reversed order.
        var rows = [Int32](repeating: 0, count: height), rowWeights = [Int16](repeating: 0, count: 2 * height)
        for k in 0..<height {
            let from = flipY ? height - 1 - k : k
            rows[k] = Int32(ys.index[from])
            rowWeights[2 * k] = Int16(ys.weight0[from])
            rowWeights[2 * k + 1] = Int16(ys.weight1[from])
        }
        let plane = width * height
        let source = image.base.assumingMemoryBound(to: UInt8.self) + area.y * image.rowStride + area.x * 3
        return rows.withUnsafeBufferPointer { rows in
            rowWeights.withUnsafeBufferPointer { rowWeights in
                func run(_ map: UnsafePointer<UInt8>?) -> Result {
                    var job = ckiln_rgb_resample_job(
                        source: source, row_stride: image.rowStride, row_bytes: (image.width - area.x) * 3,
                        window_width: area.width, window_height: area.height, blocks: blocks, rows: rows.baseAddress!,
                        row_weights: rowWeights.baseAddress!, width: width, height: height, levels: map, scale: scale,
                        offset: offset, planes: (output, output + plane, output + 2 * plane))
                    return body(&job)
                }
                if let levels { return levels.withUnsafeBufferPointer { run($0.baseAddress!) } }
                return run(nil)
            }
        }
    }
}
