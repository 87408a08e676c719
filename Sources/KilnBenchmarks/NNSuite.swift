import KilnCore
import KilnNN

/// `kiln bench nn MODEL`: inference latency and throughput of one model at one batch size.
public enum NNSuite {
    /// Per-kernel times of one run (after `warmup` runs): where the time goes.
    public static func profile(modelPath: String, batch: Int, warmup: Int) throws -> [(node: String, kernel: String, milliseconds: Double)] {
        let (session, inputs) = try prepare(modelPath: modelPath, batch: batch)
        for _ in 0..<warmup { _ = try session.run(inputs) }
        return try session.profile(inputs)
    }

    static func prepare(modelPath: String, batch: Int) throws -> (Session, [String: Tensor]) {
        guard batch >= 1 else { throw KilnError.invalidArgument("--batch must be at least 1, got \(batch)") }
        let model = try Model(contentsOf: modelPath)
        var inputs: [String: Tensor] = [:]
        for (info, shape) in zip(model.inputs, model.concreteInputShapes(batch: batch)) {
            guard info.dtype == .float32 else { throw KilnError.unsupported("bench nn feeds float32 inputs; '\(info.name)' is \(info.dtype)") }
            var stream = Philox(seed: 7).stream(0)
            inputs[info.name] = try Tensor(shape: shape, values: (0..<shape.reduce(1, *)).map { _ in Float(stream.nextNormal()) })
        }
        return (try Session(model: model), inputs)
    }

    public static func run(modelPath: String, batch: Int, runs: Int, warmup: Int) throws -> BenchmarkResult {
        let (session, inputs) = try prepare(modelPath: modelPath, batch: batch)
        let model = session.model
        let samples = try Stopwatch.sample(runs: runs, warmup: warmup) { _ = try session.run(inputs) }
        let flops = try model.flops(batch: batch)
        let name = modelPath.split(separator: "/").last.map(String.init) ?? modelPath
        let result = BenchmarkResult(suite: "nn", name: "\(name) batch \(batch)", samplesMilliseconds: samples,
                                     unit: .imagesPerSecond, workPerRun: Double(batch))
        return BenchmarkResult(
            suite: "nn", name: result.name, samplesMilliseconds: samples, unit: .imagesPerSecond, workPerRun: Double(batch),
            details: [("batch", .int(batch)), ("threads", .int(Threads.count)), ("flops", .int(flops)),
                      ("achieved_gflops", .double(Double(flops) / (result.bestMilliseconds / 1000) / 1e9)),
                      ("peak_share_1core", .double(Double(flops) / (result.bestMilliseconds / 1000) / 275e9 / Double(Threads.count)))])
    }
}
