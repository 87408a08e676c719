import ArgumentParser
import KilnCore
import KilnValidation

struct SchemaCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "schema", abstract: "Infer a schema from statistics; convert it to and from TFDV's schema.pbtxt.",
        subcommands: [Infer.self, Export.self, Import.self])

    struct Infer: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Infer a schema (kiln.schema/1 JSON) from statistics.")
        @Argument(help: "Statistics (from `kiln stats`).") var statistics: String
        @Option(name: .shortAndLong, help: "Where to write the schema (JSON).") var output: String
        @Flag(help: "Record the numeric ranges seen.") var inferRanges = false
        @Option(help: "A feature absent at serving time (a label); repeatable.") var notInServing: [String] = []
        @Option(help: "Largest number of distinct values a string feature's domain lists.") var maxDomainSize = 50

        func run() throws {
            var options = SchemaInferenceOptions()
            options.inferRanges = inferRanges
            options.notInServing = notInServing
            options.maximumDomainSize = maxDomainSize
            let schema = try Schema.infer(from: try StatisticsSummary.load(path: statistics), options: options)
            try schema.save(path: output)
            print("inferred a schema of \(schema.features.count) features -> \(output)")
        }
    }

    struct Export: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Write a schema in TFDV's text format (schema.pbtxt).")
        @Argument(help: "The schema (JSON).") var schemaPath: String?
        @Option(name: .customLong("schema"), help: "The schema (JSON), as an option.") var schemaOption: String?
        @Option(help: "Output format: pbtxt.") var format = "pbtxt"
        @Option(name: .shortAndLong, help: "Where to write it (default: standard output).") var output: String?

        func validate() throws {
            guard format == "pbtxt" else { throw ValidationError("--format must be pbtxt, got '\(format)'") }
            guard (schemaPath == nil) != (schemaOption == nil) else { throw ValidationError("give the schema (JSON) once: SCHEMA.json or --schema SCHEMA.json") }
        }

        func run() throws {
            let text = try Schema.load(path: schemaPath ?? schemaOption!).pbtxt
            if let output { try FileIO.write(Array(text.utf8), to: output) } else { print(text, terminator: "") }
        }
    }

    struct Import: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Read a TFDV schema.pbtxt into a kiln.schema/1 JSON schema.")
        @Argument(help: "The TFDV schema (text format).") var pbtxt: String
        @Option(name: .shortAndLong, help: "Where to write the schema (JSON).") var output: String

        func run() throws {
            let schema = try Schema(pbtxt: String(decoding: try FileIO.read(pbtxt), as: UTF8.self))
            try schema.save(path: output)
            print("imported \(schema.features.count) features -> \(output)")
        }
    }
}

/// `kiln validate`: exit 0 when clean, 1 when anomalies were found, 2 on a usage or input error.
struct Validate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Validate statistics against a schema, with drift (--baseline) and skew (--serving); exit 1 on anomalies, 2 on errors.")

    @Option(help: "The schema (JSON).") var schema: String
    @Option(help: "Statistics of the data to check (from `kiln stats`).") var stats: String
    @Option(help: "Statistics of the previous span, for drift.") var baseline: String?
    @Option(help: "Statistics of serving data, for skew against --stats.") var serving: String?
    @Option(help: "Only check the features in this environment (e.g. SERVING).") var environment: String?
    @Option(name: .shortAndLong, help: "Where to write the anomalies (JSON, kiln.anomalies/1).") var output: String?
    @Option(help: "Also write an HTML report: anomalies, and each feature beside the baseline's with its drift.") var html: String?

    func run() throws {
        let current = try StatisticsSummary.load(path: stats)
        let previous = try baseline.map(StatisticsSummary.load)
        let report = try Validator.validate(
            current, schema: try Schema.load(path: schema), environment: environment,
            baseline: previous, serving: try serving.map(StatisticsSummary.load))
        if let output { try FileIO.write(Array((report.json.pretty + "\n").utf8), to: output) }
        if let html {
            let page = HTMLReport.render(current, title: "Validation of \(stats)", baseline: previous, validation: report)
            try FileIO.write(Array(page.utf8), to: html)
        }
        for anomaly in report.anomalies {
            print("\(anomaly.severity.rawValue.uppercased())  \(anomaly.feature.isEmpty ? "(dataset)" : anomaly.feature)  \(anomaly.type): \(anomaly.description)")
        }
        for (kind, results) in [("drift", report.drift), ("skew", report.skew)] {
            for result in results {
                print("\(kind)  \(result.feature)  \(result.comparator.kind.rawValue) = \(String((result.value * 10000).rounded() / 10000)) (threshold \(result.comparator.threshold))\(result.anomalous ? "  ANOMALOUS" : "")")
            }
        }
        print(report.anomalies.isEmpty ? "no anomalies" : "\(report.anomalies.count) anomalies")
        if !report.anomalies.isEmpty { throw ExitCode(1) }
    }
}
