import ArgumentParser
import KilnCore
import KilnTabular
import KilnTransform

struct Transform: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "TF-Transform-style preprocessing: analyze training data into a transform graph, apply it anywhere.",
        subcommands: [Analyze.self, Merge.self, Apply.self])
}

extension Transform {
    struct Analyze: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "A full pass over a CSV file: compute every constant the spec needs; write the transform graph.")

        @Option(help: "The transform spec (JSON).") var spec: String
        @Argument(help: "The training data (CSV).") var data: String
        @Option(name: .shortAndLong, help: "Where to write the transform graph (JSON).") var output: String
        @Option(help: "Also write the partial analysis (binary, mergeable with `kiln transform merge`).") var partialOut: String?
        @OptionGroup var csv: CSVArguments
        @OptionGroup var threadOptions: ThreadOptions

        func run() throws {
            try threadOptions.apply()
            let parsedSpec = try TransformSpec(json: try JSONValue.parse(try FileIO.read(spec)))
            var options = try csv.options()
            options.columns = parsedSpec.columnsRead
            let reader = try CSVReader(path: data, options: options)
            var analysis = TransformAnalysis(spec: parsedSpec)
            try analysis.add(reader: reader)
            reportSkipped(reader.report)
            if let partialOut { try analysis.save(path: partialOut) }
            let graph = try analysis.finish()
            try graph.save(path: output)
            print("analyzed \(analysis.rows) rows, \(parsedSpec.features.count) features -> \(output)")
        }
    }

    struct Merge: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Merge partial analyses (from `analyze --partial-out`) into one transform graph.")

        @Argument(help: "Partial analyses (.bin) of the same spec.") var partials: [String]
        @Option(name: .shortAndLong, help: "Where to write the transform graph (JSON).") var output: String

        func validate() throws {
            guard !partials.isEmpty else { throw ValidationError("give at least one partial analysis") }
        }

        func run() throws {
            var merged = try TransformAnalysis.load(path: partials[0])
            for path in partials.dropFirst() { try merged.merge(try TransformAnalysis.load(path: path)) }
            try merged.finish().save(path: output)
            print("merged \(partials.count) partial analyses, \(merged.rows) rows -> \(output)")
        }
    }

    struct Apply: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Apply a transform graph to a CSV file; write CSV (multi-valued outputs as name_0...) or .npy (float64 matrix).")

        @Argument(help: "The transform graph (JSON).") var graph: String
        @Argument(help: "The data (CSV).") var data: String
        @Option(name: .shortAndLong, help: "OUT.csv or OUT.npy.") var output: String
        @OptionGroup var csv: CSVArguments
        @OptionGroup var threadOptions: ThreadOptions

        func validate() throws {
            guard output.hasSuffix(".csv") || output.hasSuffix(".npy") else {
                throw ValidationError("--output must end in .csv or .npy, got '\(output)'")
            }
        }

        func run() throws {
            try threadOptions.apply()
            let loaded = try TransformGraph.load(path: graph)
            var options = try csv.options()
            options.columns = loaded.inputSchema.map(\.name)
            for field in loaded.inputSchema where options.types[field.name] == nil { options.types[field.name] = field.type }
            let reader = try CSVReader(path: data, options: options)
            var rows = 0
            if output.hasSuffix(".csv") {
                let writer = try CSVWriter(path: output)
                try loaded.apply(reader: reader) { batch in
                    try writer.write(try batch.expanded())
                    rows += batch.rowCount
                }
                try writer.close()
            } else {
                var values: [Double] = []
                var width = 0
                try loaded.apply(reader: reader) { batch in
                    let matrix = try batch.matrix()
                    values.append(contentsOf: matrix.values)
                    width = matrix.columns
                    rows += batch.rowCount
                }
                if rows == 0 { width = loaded.outputSchema.reduce(0) { $0 + $1.width } }
                try FileIO.write(try NPY.encodeFloat64(values, shape: [rows, width]), to: output)
            }
            reportSkipped(reader.report)
            print("transformed \(rows) rows -> \(output)")
        }
    }
}
