import Histogram

/// Why a request failed.
public enum LoadErrorKind: String, Sendable, CaseIterable, Codable {
    /// The connection could not be opened.
    case connect
    /// No complete response within the timeout.
    case timeout
    /// The server closed the connection (or it broke) before the response was complete.
    case closed
    /// The bytes that came back are not an HTTP/1.x response.
    case invalidResponse = "invalid_response"
    /// A response with status 400...499.
    case status4xx = "status_4xx"
    /// A response with status 500...599.
    case status5xx = "status_5xx"
}

/// Latencies in nanoseconds, 3 significant digits, up to an hour.
typealias LatencyHistogram = Histogram<UInt64>

func makeLatencyHistogram() -> LatencyHistogram {
    LatencyHistogram(lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000_000, numberOfSignificantValueDigits: .three)
}

/// What one named request saw: counts, latencies and bytes. Merging two equals recording both.
public struct RequestStatistics: Sendable {
    /// Requests that completed, with a response or an error.
    public internal(set) var requests = 0
    public internal(set) var errors: [LoadErrorKind: Int] = [:]
    /// Responses by status code.
    public var statusCodes: [Int: Int] {
        var codes: [Int: Int] = [:]
        for (code, count) in statusCounts.enumerated() where count > 0 { codes[code] = count }
        return codes
    }
    /// Counts indexed by status code (100...999), kept flat: one is added per response.
    private var statusCounts = [Int](repeating: 0, count: 1000)
    public internal(set) var bytesReceived = 0
    public internal(set) var bytesSent = 0
    /// From each request's intended send time to the end of its response.
    var corrected = makeLatencyHistogram()
    /// From the moment each request was written to the end of its response.
    var uncorrected = makeLatencyHistogram()

    public var errorCount: Int { errors.values.reduce(0, +) }

    mutating func recordResponse(status: Int, corrected: UInt64, uncorrected: UInt64, bytesReceived: Int, bytesSent: Int) {
        requests += 1
        self.bytesReceived += bytesReceived
        self.bytesSent += bytesSent
        statusCounts[status] += 1  // the scanner reads exactly three digits
        if status >= 400 { errors[status >= 500 ? .status5xx : .status4xx, default: 0] += 1 }
        _ = self.corrected.record(min(corrected, self.corrected.highestTrackableValue))
        _ = self.uncorrected.record(min(uncorrected, self.uncorrected.highestTrackableValue))
    }

    mutating func recordError(_ kind: LoadErrorKind) {
        requests += 1
        errors[kind, default: 0] += 1
    }

    mutating func merge(_ other: RequestStatistics) {
        requests += other.requests
        errors.merge(other.errors, uniquingKeysWith: +)
        for index in statusCounts.indices { statusCounts[index] += other.statusCounts[index] }
        bytesReceived += other.bytesReceived
        bytesSent += other.bytesSent
        corrected.add(other.corrected)
        uncorrected.add(other.uncorrected)
    }

    /// Corrected latency percentiles in milliseconds.
    public var latency: LatencySummary { LatencySummary(corrected) }
    /// Uncorrected latency percentiles in milliseconds.
    public var uncorrectedLatency: LatencySummary { LatencySummary(uncorrected) }
}

/// Latency percentiles in milliseconds (HdrHistogram, within 0.1% of the recorded values).
public struct LatencySummary: Sendable, Equatable {
    public var count: UInt64
    public var p50: Double
    public var p90: Double
    public var p99: Double
    public var p999: Double
    public var max: Double
    public var mean: Double

    init(_ histogram: LatencyHistogram) {
        func ms(_ nanoseconds: UInt64) -> Double { Double(nanoseconds) / 1e6 }
        count = histogram.totalCount
        p50 = ms(histogram.valueAtPercentile(50))
        p90 = ms(histogram.valueAtPercentile(90))
        p99 = ms(histogram.valueAtPercentile(99))
        p999 = ms(histogram.valueAtPercentile(99.9))
        max = ms(histogram.max)
        mean = count == 0 ? 0 : histogram.mean / 1e6
    }

    /// The named percentile: p50, p90, p99, p999 (or p99.9), max or mean.
    public func value(named name: String) -> Double? {
        switch name {
        case "p50", "median": p50
        case "p90": p90
        case "p99": p99
        case "p999", "p99.9": p999
        case "max": max
        case "mean", "avg": mean
        default: nil
        }
    }
}
