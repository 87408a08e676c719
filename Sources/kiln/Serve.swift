import ArgumentParser
import KilnCore
import KilnServe

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve the ONNX models of a folder with TensorFlow Serving's REST API (DIR/<model>/<version>/model.onnx).",
        discussion: """
            New versions are picked up by polling the folder (--poll-seconds) or by POST /v1/admin/reload; \
            DIR/<model>/config.json chooses the versions served and names them with labels.
            """)

    @Option(help: "The model repository.") var modelDir: String
    @Option(help: "The address to listen on.") var host = "127.0.0.1"
    @Option(help: "The port to listen on (0: any free port, printed at start).") var port = 8501
    @Option(help: "Largest request body in bytes (larger ones get 413).") var maxBodyBytes = 64 << 20
    @Option(help: "Seconds between scans of the model folder for new versions (0: only on POST /v1/admin/reload).")
    var pollSeconds = 2.0
    @Option(help: "Seconds a request may take: then 504, or the connection closes if the body has not arrived; idle connections close too.")
    var requestTimeout = 30.0
    @Option(help: "The bearer token of the admin endpoints (default: $KILN_ADMIN_TOKEN; without one they are off).")
    var adminToken: String?
    @OptionGroup var threadOptions: ThreadOptions

    func validate() throws {
        guard pollSeconds >= 0, pollSeconds <= 86_400 else { throw ValidationError("--poll-seconds must be between 0 and 86400") }
        guard requestTimeout > 0, requestTimeout <= 86_400 else { throw ValidationError("--request-timeout must be more than 0 and at most 86400") }
        guard maxBodyBytes > 0 else { throw ValidationError("--max-body-bytes must be more than 0") }
    }

    func run() async throws {
        try threadOptions.apply()
        var options = ServerOptions(modelDirectory: modelDir)
        options.host = host
        options.port = port
        options.maximumBodyBytes = maxBodyBytes
        options.pollSeconds = pollSeconds
        options.requestTimeoutSeconds = requestTimeout
        options.adminToken = adminToken ?? getenv("KILN_ADMIN_TOKEN").map { String(cString: $0) }.flatMap { $0.isEmpty ? nil : $0 }
        try await KilnServer.run(options: options) { line in
            let text = line + "\n"
            _ = text.withCString { write(line.hasPrefix("error: ") ? 2 : 1, $0, strlen($0)) }
        }
    }
}

#if canImport(Glibc)
import Glibc
#endif
