import ArgumentParser
import KilnCore
import KilnTabular
import KilnValidation

struct Stats: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Statistics of a CSV file in the style of TFDV (malformed rows are counted as invalid), as JSON and a table.")

    @Argument(help: "The data (CSV).") var data: String
    @Option(name: .shortAndLong, help: "Where to write the statistics (JSON, kiln.statistics/1).") var output: String
    @Option(help: "Also compute the statistics per value of this column.") var slice: String?
    @Option(help: "Also write a self-contained HTML report (histograms, top values).") var html: String?
    @OptionGroup var csv: CSVArguments
    @OptionGroup var threadOptions: ThreadOptions

    func run() throws {
        try threadOptions.apply()
        let statistics = try DatasetStatistics.generate(csvPath: data, options: try csv.options(), sliceColumn: slice)
        try FileIO.write(Array((statistics.json.text + "\n").utf8), to: output)
        if let html {
            let report = HTMLReport.render(try StatisticsSummary(statistics), title: "Statistics of \(data)")
            try FileIO.write(Array(report.utf8), to: html)
        }
        print(statistics.summary)
        print("\(statistics.rows + statistics.invalidRowCount) rows (\(statistics.invalidRowCount) invalid), \(statistics.features.count) features -> \(output)")
    }
}

extension DatasetStatistics {
    /// A compact terminal table: one line per feature.
    var summary: String {
        func pad(_ text: String, _ width: Int) -> String {
            text.count >= width ? String(text.prefix(width - 1)) + " " : text + String(repeating: " ", count: width - text.count)
        }
        func short(_ value: Double) -> String {
            let magnitude = abs(value)
            if magnitude != 0 && (magnitude >= 1e6 || magnitude < 1e-3) { return String(format3: value) }
            return String((value * 1000).rounded() / 1000)
        }
        var lines = [pad("feature", 22) + pad("type", 8) + pad("present", 9) + pad("missing", 9) + pad("mean / unique", 15)
                     + pad("std / top", 24) + pad("min", 12) + pad("median", 12) + "max"]
        for feature in features {
            var line = pad(feature.name, 22) + pad(feature.type.rawValue, 8) + pad(String(feature.present), 9) + pad(String(feature.missing), 9)
            if feature.type == .string {
                let unique = feature.frequencies.isExact ? feature.frequencies.table.count : feature.distinct.estimate
                let top = feature.frequencies.top(1).first.map { "\($0.value) (\($0.count))" } ?? ""
                line += pad(String(unique), 15) + pad(top, 24)
            } else if feature.moments.count > 0 {
                line += pad(short(feature.moments.mean), 15) + pad(short(feature.moments.sampleVariance.squareRoot()), 24)
                    + pad(short(feature.moments.min), 12) + pad(short(feature.quantiles.quantile(0.5) ?? .nan), 12) + short(feature.moments.max)
            }
            lines.append(line)
        }
        return lines.joined(separator: "\n")
    }
}

extension String {
    /// Three significant digits in exponent form ("1.23e+06").
    init(format3 value: Double) {
        let exponent = Int(log10(abs(value)).rounded(.down))
        let mantissa = (value / pow(10, Double(exponent)) * 100).rounded() / 100
        self = "\(mantissa)e\(exponent >= 0 ? "+" : "")\(exponent)"
    }
}

#if canImport(Glibc)
import Glibc
#endif
