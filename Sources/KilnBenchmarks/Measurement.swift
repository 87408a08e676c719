import KilnCore

#if canImport(Glibc)
import Glibc
#endif

/// Wall-clock timing with a monotonic clock, in milliseconds.
public enum Stopwatch {
    public static func nowNanoseconds() -> UInt64 {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
    }

    /// The milliseconds `body` takes, once.
    public static func milliseconds(_ body: () throws -> Void) rethrows -> Double {
        let start = nowNanoseconds()
        try body()
        return Double(nowNanoseconds() - start) / 1e6
    }

    /// Runs `body` `warmup` times untimed, then `runs` times timed; returns each run's milliseconds.
    public static func sample(runs: Int, warmup: Int, _ body: () throws -> Void) rethrows -> [Double] {
        for _ in 0..<warmup { try body() }
        return try (0..<runs).map { _ in try milliseconds(body) }
    }
}

/// The throughput unit of a case: one of the keys `benchmarks/run` reads.
public enum ThroughputUnit: String, Sendable {
    case gflops, imagesPerSecond = "images_per_s", rowsPerSecond = "rows_per_s"
    case megabytesPerSecond = "mb_per_s", requestsPerSecond = "requests_per_s"
}

/// One benchmark case's timings: what `kiln bench <suite> --json` prints, one object per line.
public struct BenchmarkResult: Sendable {
    public let suite: String
    public let name: String
    public let samplesMilliseconds: [Double]
    public let unit: ThroughputUnit
    /// The work of one run in the unit's numerator: flops for GFLOP/s, images, rows, megabytes, requests.
    public let workPerRun: Double
    /// Extra facts about the case (threads, which kernel ran ...), written after the timings.
    public let details: [(String, JSONValue)]

    public init(suite: String, name: String, samplesMilliseconds: [Double], unit: ThroughputUnit,
                workPerRun: Double, details: [(String, JSONValue)] = []) {
        self.suite = suite
        self.name = name
        self.samplesMilliseconds = samplesMilliseconds
        self.unit = unit
        self.workPerRun = workPerRun
        self.details = details
    }

    public var bestMilliseconds: Double { samplesMilliseconds.min() ?? .nan }
    public var medianMilliseconds: Double { median(samplesMilliseconds) }

    /// Throughput of a run that took `milliseconds`.
    public func throughput(milliseconds: Double) -> Double {
        let perSecond = workPerRun / (milliseconds / 1000)
        return unit == .gflops ? perSecond / 1e9 : perSecond
    }

    public var json: JSONValue {
        .object([
            ("suite", .string(suite)), ("name", .string(name)),
            ("best_ms", .double(bestMilliseconds)), ("median_ms", .double(medianMilliseconds)),
            ("runs", .int(samplesMilliseconds.count)),
            (unit.rawValue, .double(throughput(milliseconds: bestMilliseconds))),
            ("median_" + unit.rawValue, .double(throughput(milliseconds: medianMilliseconds))),
        ] + details + [("samples_ms", .array(samplesMilliseconds.map(JSONValue.double)))])
    }
}

/// The middle value (the mean of the two middle ones for an even count).
public func median(_ values: [Double]) -> Double {
    guard !values.isEmpty else { return .nan }
    let sorted = values.sorted()
    let middle = sorted.count / 2
    return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
}

/// Keeps `value` (and the work that made it) from being optimised away.
@inline(never)
public func blackHole<T>(_ value: T) {
    withExtendedLifetime(value) {}
}
