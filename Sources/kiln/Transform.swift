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
        @Option(help: ArgumentHelp(
            "Also transform the same data with the graph, as TF Transform's AnalyzeAndTransformDataset: OUT.csv or OUT.npy.",
            discussion: "The batches parsed for the analysis are transformed from memory (up to 192 MB of them; past that the file is read again)."))
        var transformed: String?
        @OptionGroup var csv: CSVArguments
        @OptionGroup var threadOptions: ThreadOptions

        func validate() throws {
            if let transformed { try validateTransformedPath(transformed, option: "--transformed") }
            guard transformed == nil || partialOut == nil else {
                throw ValidationError("--transformed and --partial-out do not combine: a partial analysis is for merging with others before transforming")
            }
        }

        func run() throws {
            try threadOptions.apply()
            let parsedSpec = try TransformSpec(json: try JSONValue.parse(try FileIO.read(spec)))
            var options = try csv.options()
            if let transformed {
                var graph: TransformGraph? = nil
                let rows = try writeTransformed(to: transformed) { body in
                    graph = try TransformGraph.analyzeAndApply(
                        spec: parsedSpec, csvPath: data, options: options, report: reportSkipped, body)
                    return graph!
                }
                try graph!.save(path: output)
                print("analyzed and transformed \(rows) rows, \(parsedSpec.features.count) features -> \(output), \(transformed)")
                return
            }
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

        func validate() throws { try validateTransformedPath(output, option: "--output") }

        func run() throws {
            try threadOptions.apply()
            let loaded = try TransformGraph.load(path: graph)
            var options = try csv.options()
            options.columns = loaded.inputSchema.map(\.name)
            for field in loaded.inputSchema where options.types[field.name] == nil { options.types[field.name] = field.type }
            let reader = try CSVReader(path: data, options: options)
            let rows = try writeTransformed(to: output) { body in
                try loaded.apply(reader: reader, body)
                return loaded
            }
            reportSkipped(reader.report)
            print("transformed \(rows) rows -> \(output)")
        }
    }
}

func validateTransformedPath(_ path: String, option: String) throws {
    guard path.hasSuffix(".csv") || path.hasSuffix(".npy") else {
        throw ValidationError("\(option) must end in .csv or .npy, got '\(path)'")
    }
}

/// Writes the batches `produce` hands over to OUT.csv (multi-valued outputs as name_0...) or
/// OUT.npy (one float64 matrix); returns the row count. `produce` returns the graph it applied.
func writeTransformed(
    to path: String, _ produce: (_ body: (TransformedTable) throws -> Void) throws -> TransformGraph
) throws -> Int {
    var rows = 0
    if path.hasSuffix(".csv") {
        let writer = try CSVWriter(path: path)
        _ = try produce { batch in
            try writer.write(try batch.expanded())
            rows += batch.rowCount
        }
        try writer.close()
        return rows
    }
    var values: [Double] = []
    var width = 0
    let graph = try produce { batch in
        let matrix = try batch.matrix()
        values.append(contentsOf: matrix.values)
        width = matrix.columns
        rows += batch.rowCount
    }
    if rows == 0 { width = graph.outputSchema.reduce(0) { $0 + $1.width } }
    try FileIO.write(try NPY.encodeFloat64(values, shape: [rows, width]), to: path)
    return rows
}
