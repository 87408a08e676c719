import ArgumentParser
import KilnTabular

#if canImport(Glibc)
import Glibc
#endif

/// How the CSV input is read, for every subcommand that reads one.
struct CSVArguments: ParsableArguments {
    @Option(help: "Field delimiter: one ASCII character, or 'tab'.") var delimiter = ","
    @Option(help: "Column types overriding inference, e.g. 'age=float,zip=string' (types: float, int, bool, string).")
    var types: String?
    @Option(help: "Comma-separated tokens that mean a missing value (default: '',NA,N/A,null,NULL).") var missing: String?
    @Option(help: "Malformed rows: 'error' (stop, naming line and column) or 'skip' (count them).") var badRows = "error"
    @Flag(help: "The file has no header row (columns are column_1, column_2, ...).") var noHeader = false

    func options() throws -> CSVOptions {
        var options = CSVOptions()
        let delimiterText = delimiter == "tab" ? "\t" : delimiter
        guard delimiterText.utf8.count == 1, let byte = delimiterText.utf8.first, byte < 0x80 else {
            throw ValidationError("--delimiter must be one ASCII character or 'tab', got '\(delimiter)'")
        }
        options.delimiter = byte
        options.hasHeader = !noHeader
        if let types {
            for item in types.split(separator: ",") {
                let parts = item.split(separator: "=", maxSplits: 1)
                guard parts.count == 2 else { throw ValidationError("--types takes NAME=TYPE pairs, got '\(item)'") }
                options.types[String(parts[0])] = try ColumnType(name: String(parts[1]))
            }
        }
        if let missing { options.missingTokens = missing.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        guard let policy = BadRowPolicy(rawValue: badRows) else {
            throw ValidationError("--bad-rows must be 'error' or 'skip', got '\(badRows)'")
        }
        options.badRows = policy
        return options
    }
}

/// Prints how many rows a reader skipped (under --bad-rows skip) on stderr.
func reportSkipped(_ report: CSVReport) {
    guard report.skippedCount > 0 else { return }
    let reasons = report.skippedRows.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", ")
    printToStandardError("skipped \(report.skippedCount) malformed rows (\(reasons)); first: \(report.skippedExamples.first ?? "")")
}
