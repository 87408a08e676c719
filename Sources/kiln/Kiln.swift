import ArgumentParser
import KilnCore

@main
struct Kiln: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kiln",
        abstract: "Kiln: production ML with a fast native core.",
        version: KilnVersion.string,
        subcommands: [Info.self, NN.self, Transform.self, Stats.self, Bench.self])
}

/// Options every computing subcommand takes.
struct ThreadOptions: ParsableArguments {
    @Option(help: "Threads for Kiln and OpenBLAS (default: KILN_NUM_THREADS, else the number of cores).")
    var threads: Int?

    func apply() throws {
        if let threads {
            guard threads >= 1 else { throw ValidationError("--threads must be at least 1, got \(threads)") }
            try Threads.setCount(threads)
        }
    }
}
