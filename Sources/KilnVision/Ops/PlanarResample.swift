import CKilnSupport
import KilnCore

/// Bilinear resampling of packed RGB straight into planar float rows (CHW tensors): Resize's
/// fixed-point arithmetic, so the same levels as `Resize.bilinearRows`, then a byte map of the
/// levels (brightness/contrast) and `level · scale + offset` per channel (Normalize), in one pass
/// (`ckiln_rgb_resample`).
enum PlanarResample {
    /// Renders `window` of the RGB `image` at `width`×`height` into the three planes at `output`
    /// (`width`×`height` floats each), flipped as asked, as if flipped after resizing, each
    /// level mapped through `levels` (256 bytes) when given, asking for the `next` sample's first
    /// rows while it finishes. False, having written nothing, when the window shrinks too steeply
    /// for the gathered taps (more than about 2.6×; see `ckiln_rgb_blocks_prepare`).
    static func bilinearRGB(_ image: PixelView, window area: (x: Int, y: Int, width: Int, height: Int), width: Int, height: Int,
                            flipX: Bool, flipY: Bool, levels: [UInt8]?, scale: (Float, Float, Float), offset: (Float, Float, Float),
                            next: NextRows? = nil, into output: UnsafeMutablePointer<Float>) -> Bool {
        withJob(image, window: area, width: width, height: height, flipX: flipX, flipY: flipY, levels: levels, scale: scale,
                offset: offset, next: next, into: output) { ckiln_rgb_resample(&$0) } != nil
    }

    /// The first rows the next sample of a batch will read, for the kernel to ask into the cache
    /// while it finishes this one (`ckiln_rgb_resample_job.next_source`): only ever prefetched,
    /// never read, so the pointer may outlive the view it came from.
    struct NextRows: @unchecked Sendable {
        let source: UnsafeRawPointer
        let rowStride: Int
        let rowBytes: Int
        let rows: Int

        /// The rows of `window` of `image` from the top, or from the bottom when flipped vertically.
        init(_ image: PixelView, window area: (x: Int, y: Int, width: Int, height: Int), flipY: Bool) {
            source = image.base + (area.y + (flipY ? area.height - 1 : 0)) * image.rowStride + area.x * image.channels
            rowStride = flipY ? -image.rowStride : image.rowStride
            rowBytes = Swift.min(area.width, image.width - area.x) * image.channels
            rows = area.height
        }
    }

    /// The `ckiln_rgb_resample_job` that renders as `bilinearRGB` says, handed to `body`; nil
    /// when the window shrinks too steeply.
    static func withJob<Result>(_ image: PixelView, window area: (x: Int, y: Int, width: Int, height: Int), width: Int,
                                height: Int, flipX: Bool, flipY: Bool, levels: [UInt8]?, scale: (Float, Float, Float),
                                offset: (Float, Float, Float), next: NextRows? = nil, into output: UnsafeMutablePointer<Float>,
                                _ body: (inout ckiln_rgb_resample_job) -> Result) -> Result? {
        precondition(image.channels == 3, "planar resampling is for RGB")
        precondition(levels == nil || levels!.count == 256, "a level map has 256 entries")
        // Per output pixel its taps, in output order (a horizontal flip is a mirrored order);
        // per output row in memory order (a vertical flip is a reversed order) its source row and
        // weights; the blocks on a cache line (each of a block's 64-byte fields is then one line).
        // One temporary allocation for all of them.
        let blockCount = (width + 15) / 16, blockBytes = blockCount * MemoryLayout<ckiln_rgb_block>.stride
        let scratchCount = 4 * width + 5 * height
        return withUnsafeTemporaryAllocation(byteCount: blockBytes + 4 * scratchCount, alignment: 64) { memory in
            let blocks = memory.baseAddress!.bindMemory(to: ckiln_rgb_block.self, capacity: blockCount)
            let scratch = (memory.baseAddress! + blockBytes).bindMemory(to: Int32.self, capacity: scratchCount)
            let left = scratch, right = scratch + width, weight0 = scratch + 2 * width, weight1 = scratch + 3 * width
            let rows = scratch + 4 * width, rowTaps = rows + height, rowWeight0 = rows + 2 * height, rowWeight1 = rows + 3 * height
            let rowWeights = UnsafeMutableRawPointer(rows + 4 * height).bindMemory(to: Int16.self, capacity: 2 * height)
            ckiln_linear_taps(area.width, width, left, weight0, weight1)
            let lastColumn = Int32(truncatingIfNeeded: area.width &- 1)
            for x in 0..<width { right[x] = Swift.min(left[x] &+ 1, lastColumn) }
            func mirror(_ taps: UnsafeMutablePointer<Int32>) {
                var buffer = UnsafeMutableBufferPointer(start: taps, count: width)
                buffer.reverse()
            }
            if flipX { mirror(left); mirror(right); mirror(weight0); mirror(weight1) }
            ckiln_linear_taps(area.height, height, rowTaps, rowWeight0, rowWeight1)
            for d in 0..<height {
                let k = flipY ? height &- 1 &- d : d
                rows[k] = rowTaps[d]
                rowWeights[2 &* k] = Int16(truncatingIfNeeded: rowWeight0[d])
                rowWeights[2 &* k &+ 1] = Int16(truncatingIfNeeded: rowWeight1[d])
            }
            guard ckiln_rgb_blocks_prepare(left, right, weight0, weight1, width, blocks) == 1 else { return nil }
            let plane = width * height
            let source = image.base.assumingMemoryBound(to: UInt8.self) + area.y * image.rowStride + area.x * 3
            func run(_ map: UnsafePointer<UInt8>?) -> Result {
                var job = ckiln_rgb_resample_job(
                    source: source, row_stride: image.rowStride, row_bytes: (image.width - area.x) * 3, window_width: area.width,
                    window_height: area.height, blocks: blocks, rows: rows, row_weights: rowWeights, width: width, height: height,
                    levels: map, scale: scale, offset: offset, planes: (output, output + plane, output + 2 * plane),
                    next_source: next?.source.assumingMemoryBound(to: UInt8.self), next_row_stride: next?.rowStride ?? 0,
                    next_row_bytes: next?.rowBytes ?? 0, next_rows: next?.rows ?? 0)
                return body(&job)
            }
            if let levels { return levels.withUnsafeBufferPointer { run($0.baseAddress!) } }
            return run(nil)
        }
    }
}
