import ArgumentParser
import KilnCore
import KilnNN

struct NN: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "nn", abstract: "Inspect and run ONNX models.", subcommands: [NNInfo.self, NNRun.self])
}

struct NNInfo: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "info", abstract: "Inputs, outputs, operator counts, parameters and FLOPs per image of a model.")

    @Argument(help: "The ONNX model.") var model: String
    @Flag(help: "Print one JSON object.") var json = false
    @Flag(help: "List the kernel chosen for each node (batch 1).") var kernels = false

    func run() throws {
        let loaded = try Model(contentsOf: model)
        let flops = try loaded.flops(batch: 1)
        let kernelList = kernels ? try loaded.kernels(batch: 1) : []
        if json {
            print(JSONValue.object([
                ("model", .string(model)), ("opset", .int(loaded.opset)),
                ("inputs", .array(loaded.inputs.map(describe))), ("outputs", .array(loaded.outputs.map(describe))),
                ("operators", .object(loaded.exportedOperatorCounts.map { ($0.0, .int($0.1)) })),
                ("nodes_after_optimization", .int(loaded.graph.nodes.count)),
                ("parameters", .int(loaded.parameterCount)), ("flops_per_image", .int(flops)),
                ("kernels", .array(kernelList.map { .object([("node", .string($0.node)), ("kernel", .string($0.kernel)), ("flops", .int($0.flops))]) })),
            ]).text)
            return
        }
        print("model       \(model) (opset \(loaded.opset))")
        for input in loaded.inputs { print("input       \(input)") }
        for output in loaded.outputs { print("output      \(output)") }
        print("operators   " + loaded.exportedOperatorCounts.map { "\($0.0) ×\($0.1)" }.joined(separator: ", "))
        print("optimized   \(loaded.graph.nodes.count) nodes after folding and fusion")
        print("parameters  \(loaded.parameterCount)")
        print("FLOPs       \(flops) per image (\(String(format1: Double(flops) / 1e6)) MFLOP)")
        for entry in kernelList { print("  \(entry.node): \(entry.kernel)") }
    }

    private func describe(_ info: TensorInfo) -> JSONValue {
        .object([("name", .string(info.name)), ("dtype", .string(info.dtype.description)),
                 ("shape", .array(info.shape.map { if case .fixed(let v) = $0 { return .int(v) } else { return .string($0.description) } }))])
    }
}

struct NNRun: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run", abstract: "Run a model on .npy inputs; write DIR/<output name>.npy.")

    @Argument(help: "The ONNX model.") var model: String
    @Option(name: .customLong("input"), help: "NAME=FILE.npy, once per input.") var inputs: [String] = []
    @Option(help: "Folder for the outputs (created if missing).") var outputDir: String
    @OptionGroup var threadOptions: ThreadOptions

    func run() throws {
        try threadOptions.apply()
        let loaded = try Model(contentsOf: model)
        var named: [String: Tensor] = [:]
        for argument in inputs {
            guard let equals = argument.firstIndex(of: "=") else {
                throw ValidationError("--input takes NAME=FILE.npy, got '\(argument)'")
            }
            named[String(argument[..<equals])] = try NPY.read(String(argument[argument.index(after: equals)...]))
        }
        let results = try Session(model: loaded).run(named)
        try FileIO.makeDirectory(outputDir)
        for output in loaded.outputs {
            let path = "\(outputDir)/\(output.name.replacingSlashes()).npy"
            try NPY.write(results[output.name]!, to: path)
            print("\(output.name): \(results[output.name]!.dtype) \(results[output.name]!.shape) -> \(path)")
        }
    }
}

extension String {
    init(format1 value: Double) { self = String((value * 10).rounded() / 10) }

    /// An output name as a file name: path separators become underscores.
    func replacingSlashes() -> String { String(map { $0 == "/" || $0 == "\\" ? "_" : $0 }) }
}
