import ArgumentParser
import KilnCore
import KilnServe

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve the ONNX models of a folder with TensorFlow Serving's REST API (DIR/<model>/<version>/model.onnx).")

    @Option(help: "The model repository.") var modelDir: String
    @Option(help: "The address to listen on.") var host = "127.0.0.1"
    @Option(help: "The port to listen on (0: any free port, printed at start).") var port = 8501
    @Option(help: "Largest request body in bytes (larger ones get 413).") var maxBodyBytes = 64 << 20
    @OptionGroup var threadOptions: ThreadOptions

    func run() async throws {
        try threadOptions.apply()
        let repository = try ModelRepository(directory: modelDir)
        var options = ServerOptions()
        options.host = host
        options.port = port
        options.maximumBodyBytes = maxBodyBytes
        let models = repository.models.keys.sorted().map { "\($0) (versions \(repository.models[$0]!.map { String($0.version) }.joined(separator: ", ")))" }
        try await KilnServer.run(repository: repository, options: options) { port in
            let line = "serving \(models.joined(separator: ", ")) on http://\(host):\(port)\n"
            _ = line.withCString { write(1, $0, strlen($0)) }
        }
    }
}

#if canImport(Glibc)
import Glibc
#endif
