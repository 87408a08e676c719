import ArgumentParser
import KilnCore

@main
struct Kiln: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kiln",
        abstract: "Kiln: production ML with a fast native core.",
        version: KilnVersion.string,
        subcommands: [Info.self, NN.self, Transform.self, Stats.self, SchemaCommand.self, Validate.self, Augment.self, ImageCommand.self, Serve.self, Load.self, Bench.self])

    /// As ArgumentParser's, except that `kiln validate` and `kiln load` exit with 2 on any usage or
    /// input error (1 means anomalies or a missed threshold), so that a CI job can tell them apart.
    static func main() async {
        // OpenBLAS starts threads when it is loaded; Kiln does not use them, and settling the
        // thread count now stops them before they spin (a tenth of a second of CPU otherwise).
        _ = Threads.count
        let arguments = Array(CommandLine.arguments.dropFirst())
        do {
            var command = try parseAsRoot(arguments)
            if var asynchronous = command as? AsyncParsableCommand {
                try await asynchronous.run()
            } else {
                try command.run()
            }
        } catch {
            if arguments.first == "validate" || arguments.first == "load", !(error is ExitCode) {
                let message = fullMessage(for: error)
                if !message.isEmpty { printToStandardError(message) }
                exit(withError: ExitCode(2))
            }
            exit(withError: error)
        }
    }
}

/// Writes one line to standard error (notes and messages beside a command's output).
func printToStandardError(_ line: String) {
    _ = (line + "\n").withCString { write(2, $0, strlen($0)) }
}

/// Options every computing subcommand takes.
struct ThreadOptions: ParsableArguments {
    @Option(help: "Threads for Kiln, GEMMs included (default: KILN_NUM_THREADS, else the number of cores).")
    var threads: Int?

    func apply() throws {
        if let threads {
            guard threads >= 1 else { throw ValidationError("--threads must be at least 1, got \(threads)") }
            try Threads.setCount(threads)
        }
    }
}

#if canImport(Glibc)
import Glibc
#endif
