import CKilnSupport
import KilnCore
import KilnVision

/// The training pipeline's memory traffic without its arithmetic: for each sample, the rows of
/// its crop window that the resampling blends read (64 bytes a load, the row 16 ahead
/// prefetched into level 2; the kernel's own pattern — 24 rows ahead, a line as each line is
/// read, a line of each 32 KiB at a sample's start — took as long here) and its 3 × 224² floats
/// written with streaming stores, a row of each plane per output row — the bytes the fused
/// kernel must move, in its order. Timed beside the pipeline, it is how fast this machine could
/// go if the computing cost nothing.
struct MemoryFloor {
    static let side = 224
    /// Each sample's crop window, in the order the batches take them.
    private let windows: [(x: Int, y: Int, width: Int, height: Int)]
    /// Per sample, the first source row each output row blends (OpenCV's taps, as the kernel
    /// takes them): worked out before, not during, the timed runs.
    private let tops: [Int32]
    /// What is written: not zeros, which this machine's memory takes twice as fast (cache lines
    /// of zeros streamed: 50 GB/s, of other values: 27 GB/s).
    private let values = (0..<side).map { 1 + Float($0) / 256 }

    /// The windows `pipeline` draws for samples `0 ..< count` of seed 1 (its replay), and the rows
    /// each output row of each blends.
    init(pipeline: Pipeline, images: [Image], count: Int) throws {
        let windows = try (0..<count).map { index in
            let replay = try pipeline.sample(images[index % images.count], seed: 1, index: index).replay
            guard let crop = replay.first(where: { $0.name == "RandomResizedCrop" && $0.applied }) else {
                throw KilnError.invalidArgument("memory floor: sample \(index) has no crop window")
            }
            func value(_ name: String) -> Int { Int(crop.parameters.first { $0.name == name }?.value ?? 0) }
            return (x: value("x"), y: value("y"), width: value("width"), height: value("height"))
        }
        var tops = [Int32](repeating: 0, count: count * Self.side)
        var weight0 = [Int32](repeating: 0, count: Self.side), weight1 = weight0
        tops.withUnsafeMutableBufferPointer { tops in
            for (index, window) in windows.enumerated() {
                ckiln_linear_taps(window.height, Self.side, tops.baseAddress! + index * Self.side, &weight0, &weight1)
            }
        }
        (self.windows, self.tops) = (windows, tops)
    }

    /// Moves the bytes of samples `start ..< start + images.count` into `output` (images.count ×
    /// 3 × 224² floats); the sum of what it read, so that the reads are not optimised away.
    func run(_ images: [Image], start: Int, into output: UnsafeMutablePointer<Float>) -> UInt8 {
        let side = Self.side, plane = side * side
        var total = SIMD64<UInt8>()
        values.withUnsafeBufferPointer { values in
            for (offset, image) in images.enumerated() {
                let window = windows[start + offset]
                let rowStride = image.width * image.channels, rowBytes = window.width * image.channels
                let target = output + offset * 3 * plane
                image.pixels.withUnsafeBytes { pixels in
                    let first = pixels.baseAddress! + window.y * rowStride + window.x * image.channels
                    // The rows bilinear resampling blends for output row k, each read once.
                    var next = 0
                    for k in 0..<side {
                        let top = Int(tops[(start + offset) * side + k])
                        while next <= min(top + 1, window.height - 1) {
                            let row = max(next, top)
                            if row + 16 < window.height { ckiln_prefetch_l2(first + (row + 16) * rowStride, rowBytes) }
                            total &+= Self.read(first + row * rowStride, rowBytes)
                            next = row + 1
                        }
                        for c in 0..<3 {
                            StreamingStores.copy(values.baseAddress!, to: target + c * plane + k * side, count: side)
                        }
                    }
                }
            }
        }
        StreamingStores.fence()
        return total.wrappedSum()
    }

    /// Every 64-byte line of `bytes` bytes from `start` (at least one line's worth) loaded and summed.
    @inline(__always)
    private static func read(_ start: UnsafeRawPointer, _ bytes: Int) -> SIMD64<UInt8> {
        var sum = SIMD64<UInt8>(), offset = 0
        while offset + 64 <= bytes {
            sum &+= start.loadUnaligned(fromByteOffset: offset, as: SIMD64<UInt8>.self)
            offset += 64
        }
        if offset < bytes && bytes >= 64 { sum &+= start.loadUnaligned(fromByteOffset: bytes - 64, as: SIMD64<UInt8>.self) }
        return sum
    }
}
