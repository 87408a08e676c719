import CKilnSupport
import KilnCore

/// Bilinear resampling of packed RGB straight into planar float rows (CHW tensors): Resize's
/// fixed-point arithmetic, so the same levels as `Resize.bilinearRows`, then mapped to floats by
/// `ckiln_rgb_levels` (brightness/contrast and Normalize). The horizontal pass gathers the taps
/// of 16 output pixels at a time (`ckiln_rgb_resample_row`); the vertical blend and the mapping
/// run on 16 lanes (`ckiln_rgb_blend_rows`).
enum PlanarResample {
    /// Renders `window` of the RGB `image` at `width`×`height` into the three planes at `output`
    /// (`width`×`height` floats each), flipped as asked, as if flipped after resizing. False,
    /// having written nothing, when the window shrinks too steeply for the gathered taps (more
    /// than about 2.6×; see `ckiln_rgb_blocks_prepare`).
    static func bilinearRGB(_ image: PixelView, window area: (x: Int, y: Int, width: Int, height: Int), width: Int, height: Int,
                            flipX: Bool, flipY: Bool, levels: ckiln_rgb_levels, into output: UnsafeMutablePointer<Float>) -> Bool {
        precondition(image.channels == 3, "planar resampling is for RGB")
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
        guard ckiln_rgb_blocks_prepare(left, right, weight0, weight1, width, blocks) == 1 else { return false }
        // The horizontal sums of two source rows, three planes each of whole 16-value vectors,
        // 64-byte aligned (whole-line stores).
        let planeStride = (width + 15) / 16 * 16
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: 6 * planeStride * 4, alignment: 64)
        defer { buffer.deallocate() }
        var top = buffer.bindMemory(to: Int32.self, capacity: 6 * planeStride), bottom = top + 3 * planeStride
        let source = image.base.assumingMemoryBound(to: UInt8.self) + area.x * 3
        let rowBytes = (image.width - area.x) * 3
        // Output rows go in memory order (bottom up when flipped vertically), so that the
        // stream writes each plane's lines whole; source rows are visited in the same direction.
        let step = flipY ? -1 : 1
        // Source rows are short strided reads that the hardware prefetcher does not see coming.
        let windowBytes = area.width * 3, prefetchDistance = 6
        func horizontal(_ y: Int, into sums: UnsafeMutablePointer<Int32>) {
            let ahead = y + step * prefetchDistance
            if ahead >= 0 && ahead < area.height {
                ckiln_prefetch(source + (ahead + area.y) * image.rowStride, windowBytes)
            }
            ckiln_rgb_resample_row(source + (y + area.y) * image.rowStride, rowBytes, blocks, width,
                                   sums, sums + planeStride, sums + 2 * planeStride)
        }
        let plane = width * height
        var levels = levels
        var stream = ckiln_rgb_stream()
        var cachedTop = -1, cachedBottom = -1
        for y in flipY ? stride(from: height - 1, to: -1, by: -1) : stride(from: 0, to: height, by: 1) {
            // The two source rows, each computed once while it is needed, in either direction.
            let y0 = ys.index[y], y1 = min(y0 + 1, area.height - 1)
            if cachedTop != y0 && cachedBottom == y0 || cachedBottom != y1 && cachedTop == y1 {
                swap(&top, &bottom)
                swap(&cachedTop, &cachedBottom)
            }
            if cachedTop != y0 { horizontal(y0, into: top); cachedTop = y0 }
            if cachedBottom != y1 { horizontal(y1, into: bottom); cachedBottom = y1 }
            let target = output + (flipY ? height - 1 - y : y) * width
            ckiln_rgb_blend_rows(top, bottom, planeStride, ys.weight0[y], ys.weight1[y], width, &levels, &stream,
                                 target, target + plane, target + 2 * plane)
        }
        ckiln_rgb_stream_finish(&stream)
        return true
    }
}
