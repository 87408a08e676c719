import ArgumentParser
import KilnBenchmarks
import KilnCore
import KilnTransform
import KilnVision

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Time Kiln's kernels; `benchmarks/run` compares them with the peers.",
        subcommands: [Gemm.self, NNModel.self, TransformBench.self, StatsBench.self, AugmentBench.self])
}

/// Options every benchmark suite takes.
struct BenchOptions: ParsableArguments {
    @Flag(help: "Print one JSON object per case, one per line.")
    var json = false

    @Option(help: "Timed runs per case.")
    var runs = 20

    @Option(help: "Untimed runs per case before timing.")
    var warmup = 3

    @OptionGroup var threadOptions: ThreadOptions

    func validate() throws {
        guard runs >= 1 else { throw ValidationError("--runs must be at least 1, got \(runs)") }
        guard warmup >= 0 else { throw ValidationError("--warmup must not be negative, got \(warmup)") }
    }

    func report(_ results: [BenchmarkResult]) {
        if json {
            for result in results { print(result.json.text) }
            return
        }
        func pad(_ text: String, _ width: Int) -> String { text + String(repeating: " ", count: max(0, width - text.count)) }
        let width = max(24, (results.map(\.name.count).max() ?? 0) + 2)
        print(pad("case", width) + "best ms   median ms   best \(results.first?.unit.rawValue ?? "")   runs")
        for result in results {
            let best = result.throughput(milliseconds: result.bestMilliseconds)
            print(pad(result.name, width) + pad(format(result.bestMilliseconds), 10) + pad(format(result.medianMilliseconds), 12)
                  + pad(format(best), 14) + "\(result.samplesMilliseconds.count)")
        }
    }
}

/// A number with three significant decimals, for tables.
func format(_ value: Double) -> String {
    let scaled = (value * 1000).rounded() / 1000
    return String(scaled)
}

extension Bench {
    struct Gemm: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Single-precision GEMM (C = A·B, row-major) at convolution-sized shapes.")

        @Option(help: "Comma-separated MxNxK shapes (default: 512x512x512,64x3136x576,256x196x2304,64x3136x256).")
        var shapes: String?

        @OptionGroup var options: BenchOptions

        func run() throws {
            try options.threadOptions.apply()
            let chosen = try shapes.map { try $0.split(separator: ",").map { try GEMMSuite.Shape(parsing: String($0)) } }
            options.report(try GEMMSuite.run(shapes: chosen ?? GEMMSuite.defaultShapes, runs: options.runs, warmup: options.warmup))
        }
    }
}

extension Bench {
    struct NNModel: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "nn", abstract: "Inference latency and images/s of an ONNX model on random inputs.")

        @Argument(help: "The ONNX model.") var model: String
        @Option(help: "Images per run (the model's symbolic first dimension).") var batch = 1
        @Flag(help: "Time each kernel of one run instead.") var profile = false
        @OptionGroup var options: BenchOptions

        func run() throws {
            try options.threadOptions.apply()
            if profile {
                let steps = try NNSuite.profile(modelPath: model, batch: batch, warmup: options.warmup)
                let total = steps.reduce(0) { $0 + $1.milliseconds }
                for step in steps {
                    print("\(format(step.milliseconds)) ms  \(Int((step.milliseconds / total * 100).rounded()))%  \(step.node)  \(step.kernel)")
                }
                print("\(format(total)) ms total")
                return
            }
            options.report([try NNSuite.run(modelPath: model, batch: batch, runs: options.runs, warmup: options.warmup)])
        }
    }
}

extension Bench {
    struct TransformBench: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "transform",
            abstract: "CSV parsing (MB/s) and analyze + transform (rows/s, CPU s, peak MB) on the seeded benchmark table.")

        @Option(help: "Rows of the generated table (ignored with --csv).") var rows = 1_000_000
        @Option(help: "Benchmark this CSV file instead of generating one.") var csv: String?
        @Option(help: "Only write the generated table here (and the spec beside it, .spec.json), then stop.") var writeCsv: String?
        @Option(help: "Cases to run: csv_read, analyze_transform (comma-separated; default both).") var cases = "csv_read,analyze_transform"
        @OptionGroup var options: BenchOptions

        func run() throws {
            try options.threadOptions.apply()
            if let writeCsv {
                let bytes = try TabularData.write(rows: rows, to: writeCsv)
                try FileIO.write(Array(TabularData.transformSpec.utf8), to: writeCsv + ".spec.json")
                print("wrote \(rows) rows (\(bytes / 1_000_000) MB) to \(writeCsv) and its spec to \(writeCsv).spec.json")
                return
            }
            let path = try csv ?? TabularData.cachedFile(rows: rows)
            var results: [BenchmarkResult] = []
            for name in cases.split(separator: ",") {
                switch name {
                case "csv_read": results.append(try TransformSuite.csvRead(path: path, runs: options.runs, warmup: options.warmup))
                case "analyze_transform":
                    results.append(try TransformSuite.analyzeTransform(
                        path: path, spec: TabularData.transformSpec, runs: options.runs, warmup: options.warmup))
                default: throw ValidationError("unknown case '\(name)' (csv_read, analyze_transform)")
                }
            }
            options.report(results)
        }
    }
}

extension Bench {
    struct StatsBench: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "stats", abstract: "Statistics of the seeded benchmark table from its CSV file (rows/s, CPU s, peak MB).")

        @Option(help: "Rows of the generated table (ignored with --csv).") var rows = 1_000_000
        @Option(help: "Benchmark this CSV file instead of generating one.") var csv: String?
        @OptionGroup var options: BenchOptions

        func run() throws {
            try options.threadOptions.apply()
            let path = try csv ?? TabularData.cachedFile(rows: rows)
            options.report([try StatisticsSuite.run(path: path, runs: options.runs, warmup: options.warmup)])
        }
    }
}

extension Bench {
    struct AugmentBench: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "augment",
            abstract: "Each augmentation on a size² RGB image (images/s, one case per op) and the training pipeline on 64 distinct 512² images.")

        @Option(help: "The side of the single-op images.") var size = 224
        @Option(help: "Photos to cut the benchmark images from (default: examples/data/photos).") var photos: [String] = []
        @Option(help: "Cases to run, comma-separated (op names or pipeline; default all).") var cases: String?
        @OptionGroup var options: BenchOptions

        func run() throws {
            try options.threadOptions.apply()
            let paths = photos.isEmpty ? ["astronaut.png", "chelsea.png", "coffee.png", "rocket.jpg", "retina.jpg"].map { "examples/data/photos/\($0)" } : photos
            let images = try paths.map { try ImageCodec.read(path: $0) }
            options.report(try AugmentSuite.run(photos: images, size: size, cases: cases.map { Set($0.split(separator: ",").map(String.init)) },
                                                runs: options.runs, warmup: options.warmup))
        }
    }
}
