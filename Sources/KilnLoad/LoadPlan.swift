import KilnCore

/// How requests arrive.
public enum LoadMode: Sendable, Equatable {
    /// Requests at a constant (or staged) arrival rate per second, whatever the server does;
    /// latency is measured from each request's intended send time (wrk2's correction of
    /// coordinated omission).
    case openLoop(rate: Double)
    /// A fixed (or staged) number of users, each sending its next request when the previous
    /// one is answered (plus think time), as Locust's users do.
    case closedLoop(users: Int)
}

/// One step of a ramp: the rate (open loop) or users (closed loop) move linearly from the
/// previous stage's target to `target` over `duration` seconds (the first from the mode's
/// own rate or users).
public struct LoadStage: Sendable, Equatable {
    public var duration: Double
    public var target: Double

    public init(duration: Double, target: Double) {
        self.duration = duration
        self.target = target
    }

    /// `10s:100,30s:100,10s:0`.
    public static func parseList(_ text: String) throws -> [LoadStage] {
        try text.split(separator: ",").map { item in
            let parts = item.split(separator: ":", omittingEmptySubsequences: false)
            guard parts.count == 2, let target = Double(parts[1].trimmingSpaces), target >= 0 else {
                throw KilnError.invalidArgument("a stage is DURATION:TARGET (e.g. 10s:100), got '\(item)'")
            }
            return LoadStage(duration: try LoadDuration.parse(String(parts[0].trimmingSpaces)), target: target)
        }
    }
}

/// Everything one load run needs.
public struct LoadPlan: Sendable {
    public var target: LoadTarget
    public var requests: [RequestTemplate]
    public var mode: LoadMode
    public var stages: [LoadStage] = []
    /// The measured part, in seconds (the sum of the stages when there are stages).
    public var duration: Double = 10
    /// Seconds of load before the measured part, excluded from the results.
    public var warmup: Double = 0
    public var maxRequests: Int? = nil
    /// Open loop: the connection pool. Closed loop: one connection per user.
    public var connections = 10
    /// Event loops (threads) that send the requests.
    public var threads = 1
    /// Seconds a request may take before it counts as a timeout.
    public var timeout: Double = 10
    /// Closed loop: seconds a user waits after each response, drawn uniformly from the range.
    public var thinkTime: ClosedRange<Double> = 0...0
    /// Rows whose columns fill `${column}` placeholders, request `i` taking row `i % rows`.
    public var data: RequestData? = nil
    /// Seeds the think times.
    public var seed: UInt64 = 1

    public init(target: LoadTarget, requests: [RequestTemplate], mode: LoadMode) {
        self.target = target
        self.requests = requests
        self.mode = mode
    }

    /// The run's full length: warm-up, then the stages or the duration.
    public var measuredDuration: Double { stages.isEmpty ? duration : stages.reduce(0) { $0 + $1.duration } }

    public func validated() throws -> LoadPlan {
        guard !requests.isEmpty else { throw KilnError.invalidArgument("no request to send") }
        switch mode {
        case .openLoop(let rate):
            guard rate > 0 || !stages.isEmpty, rate >= 0, rate.isFinite else {
                throw KilnError.invalidArgument("the rate must be a positive number of requests per second, got \(rate)")
            }
            guard connections >= threads else {
                throw KilnError.invalidArgument("--connections (\(connections)) must be at least --threads (\(threads))")
            }
        case .closedLoop(let users):
            guard users >= 1 || !stages.isEmpty, users >= 0 else {
                throw KilnError.invalidArgument("--users must be at least 1, got \(users)")
            }
        }
        guard threads >= 1, threads <= 256 else { throw KilnError.invalidArgument("--threads must be 1...256, got \(threads)") }
        guard connections >= 1, connections <= 100_000 else {
            throw KilnError.invalidArgument("--connections must be 1...100000, got \(connections)")
        }
        guard measuredDuration > 0, measuredDuration.isFinite else {
            throw KilnError.invalidArgument("the duration must be positive")
        }
        guard warmup >= 0, warmup.isFinite else { throw KilnError.invalidArgument("the warm-up must not be negative") }
        guard timeout > 0, timeout.isFinite else { throw KilnError.invalidArgument("the timeout must be positive") }
        guard thinkTime.lowerBound >= 0, thinkTime.upperBound.isFinite else {
            throw KilnError.invalidArgument("think time must not be negative")
        }
        if let maxRequests, maxRequests < 1 { throw KilnError.invalidArgument("--max-requests must be at least 1") }
        for stage in stages where stage.duration <= 0 {
            throw KilnError.invalidArgument("a stage must last longer than 0 s")
        }
        if let data {
            for request in requests { try request.checkPlaceholders(columns: data.columns) }
        } else {
            for request in requests { try request.checkPlaceholders(columns: []) }
        }
        return self
    }
}

/// Durations as people write them: `250ms`, `5s`, `2m`, `1h`, `100us`, or a number of seconds.
public enum LoadDuration {
    public static func parse(_ text: String) throws -> Double {
        let units: [(String, Double)] = [("us", 1e-6), ("µs", 1e-6), ("ms", 1e-3), ("s", 1), ("m", 60), ("h", 3600)]
        let trimmed = String(text.trimmingSpaces)
        for (suffix, scale) in units where trimmed.hasSuffix(suffix) {
            if let value = Double(trimmed.dropLast(suffix.count)), value >= 0, value.isFinite { return value * scale }
            break
        }
        if let value = Double(trimmed), value >= 0, value.isFinite { return value }
        throw KilnError.invalidArgument("'\(text)' is not a duration (e.g. 250ms, 5s, 2m)")
    }
}

extension StringProtocol {
    var trimmingSpaces: SubSequence {
        let start = firstIndex { $0 != " " && $0 != "\t" } ?? endIndex
        let end = lastIndex { $0 != " " && $0 != "\t" }.map(index(after:)) ?? start
        return self[start..<Swift.max(start, end)]
    }
}
