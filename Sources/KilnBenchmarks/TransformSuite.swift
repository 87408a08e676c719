import KilnCore
import KilnTabular
import KilnTransform
import KilnValidation

#if canImport(Glibc)
import Glibc
#endif

/// `kiln bench transform`: CSV parsing and the analyze + transform pass on the benchmark table.
public enum TransformSuite {
    /// Reads every column of the file, batch by batch. Work: megabytes of CSV.
    public static func csvRead(path: String, runs: Int, warmup: Int) throws -> BenchmarkResult {
        let bytes = try fileSize(path)
        var rows = 0
        let cpuBefore = cpuSeconds()
        let samples = try Stopwatch.sample(runs: runs, warmup: warmup) {
            let reader = try CSVReader(path: path)
            rows = 0
            while let batch = try reader.next() { rows += batch.rowCount }
        }
        let cpu = (cpuSeconds() - cpuBefore) / Double(runs + warmup)
        return BenchmarkResult(
            suite: "transform", name: "csv_read", samplesMilliseconds: samples, unit: .megabytesPerSecond,
            workPerRun: Double(bytes) / 1e6,
            details: [("rows", .int(rows)), ("threads", .int(Threads.count)), ("cpu_s", .double(cpu)),
                      ("peak_mb", .double(peakResidentMegabytes())), ("kernel", .string("kiln CSVReader"))])
    }

    /// A full analysis of the spec over the file, then the graph applied to every batch
    /// (`TransformGraph.analyzeAndApply`; the outputs are consumed batch by batch, as a
    /// training input pipeline would). Work: rows.
    public static func analyzeTransform(path: String, spec: String, runs: Int, warmup: Int) throws -> BenchmarkResult {
        let parsed = try TransformSpec(jsonText: spec)
        var rows = 0
        var checksum = 0.0
        let cpuBefore = cpuSeconds()
        let samples = try Stopwatch.sample(runs: runs, warmup: warmup) {
            rows = 0
            _ = try TransformGraph.analyzeAndApply(spec: parsed, csvPath: path) { batch in
                rows += batch.rowCount
                if case .single(let column) = batch.outputs[0], let value = column.number(0) { checksum += value }
            }
        }
        let cpu = (cpuSeconds() - cpuBefore) / Double(runs + warmup)
        return BenchmarkResult(
            suite: "transform", name: "analyze_transform", samplesMilliseconds: samples, unit: .rowsPerSecond,
            workPerRun: Double(rows),
            details: [("rows", .int(rows)), ("threads", .int(Threads.count)), ("cpu_s", .double(cpu)),
                      ("peak_mb", .double(peakResidentMegabytes())), ("checksum", .double(checksum)),
                      ("kernel", .string("kiln TransformGraph.analyzeAndApply"))])
    }

    static func fileSize(_ path: String) throws -> Int {
        var info = stat()
        guard stat(path, &info) == 0 else { throw KilnError.io("cannot stat \(path)") }
        return Int(info.st_size)
    }

    /// User + system CPU seconds of this process so far.
    public static func cpuSeconds() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6
            + Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) / 1e6
    }

    /// The process's peak resident memory so far.
    public static func peakResidentMegabytes() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Double(usage.ru_maxrss) / 1024
    }
}

/// `kiln bench stats`: statistics of the benchmark table, end to end from the CSV file.
public enum StatisticsSuite {
    public static func run(path: String, runs: Int, warmup: Int) throws -> BenchmarkResult {
        var rows = 0
        let cpuBefore = TransformSuite.cpuSeconds()
        let samples = try Stopwatch.sample(runs: runs, warmup: warmup) {
            let statistics = try DatasetStatistics.generate(csvPath: path)
            rows = statistics.rows + statistics.invalidRowCount
            _ = statistics.json.text
        }
        let cpu = (TransformSuite.cpuSeconds() - cpuBefore) / Double(runs + warmup)
        return BenchmarkResult(
            suite: "stats", name: "statistics", samplesMilliseconds: samples, unit: .rowsPerSecond, workPerRun: Double(rows),
            details: [("rows", .int(rows)), ("threads", .int(Threads.count)), ("cpu_s", .double(cpu)),
                      ("peak_mb", .double(TransformSuite.peakResidentMegabytes())), ("kernel", .string("kiln DatasetStatistics"))])
    }
}
