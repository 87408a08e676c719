import KilnCore

/// `kiln bench gemm`: single-precision GEMM through `BLAS.sgemm` at the shapes of the
/// convolution layers that matter (see `benchmarks/README.md`).
public enum GEMMSuite {
    public struct Shape: Sendable, Equatable, CustomStringConvertible {
        public let m: Int, n: Int, k: Int
        public init(m: Int, n: Int, k: Int) { (self.m, self.n, self.k) = (m, n, k) }

        /// Parses `MxNxK`, e.g. `64x3136x576`.
        public init(parsing text: String) throws {
            let parts = text.split(separator: "x").map { Int($0) }
            guard parts.count == 3, let m = parts[0], let n = parts[1], let k = parts[2], m > 0, n > 0, k > 0 else {
                throw KilnError.invalidArgument("a GEMM shape is MxNxK with positive integers, e.g. 512x512x512; got '\(text)'")
            }
            self.init(m: m, n: n, k: k)
        }

        public var description: String { "\(m)x\(n)x\(k)" }
        public var flops: Double { 2 * Double(m) * Double(n) * Double(k) }
    }

    /// 512³, then the im2col GEMMs of a 3×3 64-channel conv at 56², a 3×3 256-channel conv at
    /// 14², and a 1×1 256→64 conv at 56².
    public static let defaultShapes = [
        Shape(m: 512, n: 512, k: 512), Shape(m: 64, n: 3136, k: 576),
        Shape(m: 256, n: 196, k: 2304), Shape(m: 64, n: 3136, k: 256),
    ]

    public static func run(shapes: [Shape] = defaultShapes, runs: Int, warmup: Int) throws -> [BenchmarkResult] {
        let kernel = "openblas-sgemm-" + BLAS.info.coreName.lowercased()
        return try shapes.map { shape in
            var stream = Philox(seed: 1).stream(0)
            let a = (0..<(shape.m * shape.k)).map { _ in stream.nextUnitFloat() - 0.5 }
            let b = (0..<(shape.k * shape.n)).map { _ in stream.nextUnitFloat() - 0.5 }
            var c = [Float](repeating: 0, count: shape.m * shape.n)
            let samples = try Stopwatch.sample(runs: runs, warmup: warmup) {
                try BLAS.sgemm(m: shape.m, n: shape.n, k: shape.k, a: a, lda: shape.k, b: b, ldb: shape.n, c: &c, ldc: shape.n)
            }
            return BenchmarkResult(
                suite: "gemm", name: "sgemm \(shape)", samplesMilliseconds: samples, unit: .gflops,
                workPerRun: shape.flops,
                details: [("threads", .int(Threads.count)), ("kernel", .string(kernel))])
        }
    }
}
