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
        let bestGFLOPs = Double(flops) / ((samples.min() ?? .nan) / 1000) / 1e9
        let kernels = Set(try model.kernels(batch: batch).map { String($0.kernel.split(separator: "+")[0]) }).sorted()
        return BenchmarkResult(
            suite: "nn", name: "\(name) batch \(batch)", samplesMilliseconds: samples, unit: .imagesPerSecond,
            workPerRun: Double(batch),
            details: [("batch", .int(batch)), ("threads", .int(Threads.count)), ("flops", .int(flops)),
                      ("kernel", .string(kernels.joined(separator: ", "))),
                      ("achieved_gflops", .double(bestGFLOPs)),
                      ("peak_share", .double(bestGFLOPs / 275 / Double(Threads.count)))])
    }
}
