import KilnCore

/// The exports and the final table of a run.
extension LoadResult {
    /// `--json`: totals, corrected latency under `latency_ms` (from the intended send time),
    /// uncorrected under `uncorrected_latency_ms`, errors by kind, and the same per request name.
    public var json: JSONValue {
        var members: [(String, JSONValue)] = [("url", .string(url))]
        switch mode {
        case .openLoop: members.append(("mode", "open"))
        case .closedLoop(let users): members += [("mode", "closed"), ("users", .int(users))]
        }
        members += Self.statisticsMembers(total, duration: duration)
        members += [
            ("duration_s", .double(Self.rounded(duration, 3))),
            ("target_rate", targetRate.map { .double(Self.rounded($0, 3)) } ?? .null),
            ("rate_held", .bool(rateHeld)),
            ("unsent", .int(unsent)),
            ("max_send_lag_ms", .double(Self.rounded(maxSendLag, 3))),
            ("connections", .int(connections)),
            ("threads", .int(threads)),
            ("stopped_early", .bool(stoppedEarly)),
            ("by_name", .object(zip(names, byName).map { ($0, .object(Self.statisticsMembers($1, duration: duration))) })),
        ]
        return .object(members)
    }

    private static func statisticsMembers(_ statistics: RequestStatistics, duration: Double) -> [(String, JSONValue)] {
        func latency(_ summary: LatencySummary) -> JSONValue {
            .object([("p50", .double(rounded(summary.p50, 4))), ("p90", .double(rounded(summary.p90, 4))),
                     ("p99", .double(rounded(summary.p99, 4))), ("p999", .double(rounded(summary.p999, 4))),
                     ("max", .double(rounded(summary.max, 4))), ("mean", .double(rounded(summary.mean, 4)))])
        }
        return [
            ("requests", .int(statistics.requests)),
            ("errors", .int(statistics.errorCount)),
            ("rate", .double(rounded(Double(statistics.requests) / duration, 3))),
            ("latency_ms", latency(statistics.latency)),
            ("uncorrected_latency_ms", latency(statistics.uncorrectedLatency)),
            ("errors_by_kind", .object(LoadErrorKind.allCases.map { ($0.rawValue, .int(statistics.errors[$0] ?? 0)) })),
            ("status_codes", .object(statistics.statusCodes.keys.sorted().map { (String($0), .int(statistics.statusCodes[$0]!)) })),
            ("bytes_received", .int(statistics.bytesReceived)),
            ("bytes_sent", .int(statistics.bytesSent)),
        ]
    }

    /// `--csv`: one row per request name, then `total`.
    public var csv: String {
        var lines = ["name,requests,errors,rate,p50_ms,p90_ms,p99_ms,p999_ms,max_ms,mean_ms,"
            + "uncorrected_p50_ms,uncorrected_p90_ms,uncorrected_p99_ms,uncorrected_p999_ms,uncorrected_max_ms,"
            + LoadErrorKind.allCases.map(\.rawValue).joined(separator: ",") + ",bytes_received,bytes_sent"]
        for (name, statistics) in zip(names + ["total"], byName + [total]) {
            let corrected = statistics.latency, uncorrected = statistics.uncorrectedLatency
            var fields = [Self.csvField(name), String(statistics.requests), String(statistics.errorCount),
                          Self.format(Double(statistics.requests) / duration, 3)]
            fields += [corrected.p50, corrected.p90, corrected.p99, corrected.p999, corrected.max, corrected.mean].map { Self.format($0, 4) }
            fields += [uncorrected.p50, uncorrected.p90, uncorrected.p99, uncorrected.p999, uncorrected.max].map { Self.format($0, 4) }
            fields += LoadErrorKind.allCases.map { String(statistics.errors[$0] ?? 0) }
            fields += [String(statistics.bytesReceived), String(statistics.bytesSent)]
            lines.append(fields.joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The final table, as people read it.
    public var table: String {
        var out = ""
        switch mode {
        case .openLoop:
            out += "open loop, target \(Self.format(targetRate ?? 0, 1))/s, \(connections) connections, \(threads) thread(s), \(url)\n"
        case .closedLoop(let users):
            out += "closed loop, \(users) users, \(threads) thread(s), \(url)\n"
        }
        let header = ["name", "requests", "errors", "rate/s", "p50 ms", "p90 ms", "p99 ms", "p99.9 ms", "max ms"]
        var rows: [[String]] = []
        let showUncorrected = { if case .openLoop = mode { return true } else { return false } }()
        for (name, statistics) in zip(names + (names.count > 1 ? ["total"] : []), byName + (names.count > 1 ? [total] : [])) {
            let latency = statistics.latency
            rows.append([name, String(statistics.requests), String(statistics.errorCount),
                         Self.format(Double(statistics.requests) / duration, 1)]
                        + [latency.p50, latency.p90, latency.p99, latency.p999, latency.max].map { Self.format($0, 3) })
            if showUncorrected {
                let raw = statistics.uncorrectedLatency
                rows.append(["  uncorrected", "", "", ""] + [raw.p50, raw.p90, raw.p99, raw.p999, raw.max].map { Self.format($0, 3) })
            }
        }
        let widths = header.indices.map { column in ([header] + rows).map { $0[column].count }.max()! }
        for row in [header] + rows {
            out += row.enumerated().map { column, text in
                let padding = String(repeating: " ", count: widths[column] - text.count)
                return column == 0 ? text + padding : padding + text
            }.joined(separator: "  ") + "\n"
        }
        out += "duration \(Self.format(duration, 2)) s, rate \(Self.format(rate, 1))/s"
        out += ", received \(Self.bytes(total.bytesReceived)), sent \(Self.bytes(total.bytesSent))\n"
        if total.errorCount > 0 {
            let kinds = LoadErrorKind.allCases.compactMap { kind in total.errors[kind].map { "\(kind.rawValue) \($0)" } }
            out += "errors: " + kinds.joined(separator: ", ") + "\n"
        }
        if !rateHeld, let targetRate {
            out += "target rate not held: \(Self.format(rate, 1))/s of \(Self.format(targetRate, 1))/s"
                + (unsent > 0 ? ", \(unsent) requests never sent" : "")
                + ", longest wait for a connection \(Self.format(maxSendLag, 1)) ms (more --connections may help)\n"
        }
        if stoppedEarly { out += "stopped early\n" }
        return out
    }

    static func rounded(_ value: Double, _ digits: Int) -> Double {
        var scale = 1.0
        for _ in 0..<digits { scale *= 10 }
        return (value * scale).rounded() / scale
    }

    static func format(_ value: Double, _ digits: Int) -> String {
        let scaled = rounded(value, digits)
        var text = String(scaled)
        if text.contains("e") { return text }
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        let fraction = parts.count > 1 ? String(parts[1]) : ""
        text = String(parts[0]) + (digits > 0 ? "." + (fraction + String(repeating: "0", count: digits)).prefix(digits) : "")
        return text
    }

    private static func bytes(_ count: Int) -> String {
        let value = Double(count)
        if value >= 1e9 { return format(value / 1e9, 2) + " GB" }
        if value >= 1e6 { return format(value / 1e6, 2) + " MB" }
        if value >= 1e3 { return format(value / 1e3, 1) + " kB" }
        return "\(count) B"
    }

    private static func csvField(_ text: String) -> String {
        guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" }) else { return text }
        return "\"" + text.replacingQuotes() + "\""
    }
}

extension String {
    fileprivate func replacingQuotes() -> String {
        var out = ""
        for character in self { out += character == "\"" ? "\"\"" : String(character) }
        return out
    }
}
