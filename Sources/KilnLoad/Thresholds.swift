import KilnCore

/// A pass/fail condition on a run, as CI jobs write them: `p99<50ms`, `p50<=2ms`, `max<1s`,
/// `errors<0.1%`, `errors<=3`, `rate>=900`, `requests>=1000`.
public struct LoadThreshold: Sendable, Equatable, CustomStringConvertible {
    public enum Comparison: String, Sendable, CaseIterable {
        case lessOrEqual = "<=", greaterOrEqual = ">=", less = "<", greater = ">"

        func holds(_ left: Double, _ right: Double) -> Bool {
            switch self {
            case .less: left < right
            case .lessOrEqual: left <= right
            case .greater: left > right
            case .greaterOrEqual: left >= right
            }
        }
    }

    public let text: String
    public let metric: String
    public let comparison: Comparison
    /// Milliseconds for latencies, a fraction for `errors` with `%`, else a plain number.
    public let limit: Double
    public let isErrorFraction: Bool

    public var description: String { text }

    public init(_ text: String) throws {
        self.text = text
        let compact = text.filter { $0 != " " }
        guard let comparison = Comparison.allCases.compactMap({ op in compact.range(of: op.rawValue).map { (op, $0) } }).first else {
            throw KilnError.invalidArgument("threshold '\(text)' has no <, <=, > or >= (e.g. p99<50ms)")
        }
        self.comparison = comparison.0
        metric = String(compact[..<comparison.1.lowerBound]).lowercased()
        var value = String(compact[comparison.1.upperBound...])
        let latencyMetrics = ["p50", "median", "p90", "p99", "p999", "p99.9", "max", "mean", "avg"]
        isErrorFraction = metric == "errors" && value.hasSuffix("%")
        if latencyMetrics.contains(metric) {
            limit = try LoadDuration.parse(value.hasSuffix("s") ? value : value + "ms") * 1000
        } else if metric == "errors" || metric == "rate" || metric == "requests" {
            if isErrorFraction { value.removeLast() }
            guard let number = Double(value), number >= 0 else {
                throw KilnError.invalidArgument("threshold '\(text)': '\(value)' is not a number")
            }
            limit = isErrorFraction ? number / 100 : number
        } else {
            throw KilnError.invalidArgument("threshold '\(text)': unknown metric '\(metric)' (p50, p90, p99, p999, max, mean, errors, rate, requests)")
        }
    }

    /// The measured value, in the threshold's unit.
    public func measured(in result: LoadResult) -> Double {
        switch metric {
        case "errors":
            let errors = Double(result.total.errorCount)
            return isErrorFraction ? (result.total.requests == 0 ? 0 : errors / Double(result.total.requests)) : errors
        case "rate": return result.rate
        case "requests": return Double(result.total.requests)
        default: return result.total.latency.value(named: metric) ?? 0
        }
    }

    public func holds(for result: LoadResult) -> Bool {
        if metric == "errors" && isErrorFraction && result.total.requests == 0 { return false }
        return comparison.holds(measured(in: result), limit)
    }

    /// `p99<50ms: passed (12.3 ms)`.
    public func verdict(for result: LoadResult) -> String {
        let value = measured(in: result)
        let shown: String
        switch metric {
        case "errors": shown = isErrorFraction ? LoadResult.format(value * 100, 3) + "%" : String(Int(value))
        case "rate": shown = LoadResult.format(value, 1) + "/s"
        case "requests": shown = String(Int(value))
        default: shown = LoadResult.format(value, 3) + " ms"
        }
        return "threshold \(text): \(holds(for: result) ? "passed" : "FAILED") (\(shown))"
    }
}

extension String {
    /// The first occurrence of `needle` (no Foundation here).
    fileprivate func range(of needle: String) -> Range<String.Index>? {
        guard !needle.isEmpty else { return nil }
        var start = startIndex
        while start < endIndex {
            if self[start...].hasPrefix(needle) { return start..<index(start, offsetBy: needle.count) }
            start = index(after: start)
        }
        return nil
    }
}
