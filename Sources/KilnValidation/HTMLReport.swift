import KilnCore
import KilnTabular

/// A static, self-contained HTML report (inline CSS and SVG, no scripts): the dataset's rows and
/// malformed rows, the anomalies, and per feature its missing rate, summary numbers, a histogram
/// (numeric) or top values (strings) — beside the baseline's when there is one — and its
/// drift/skew values.
public enum HTMLReport {
    public static func render(
        _ statistics: StatisticsSummary, title: String, baseline: StatisticsSummary? = nil, validation: ValidationReport? = nil
    ) -> String {
        var html = """
            <!DOCTYPE html><html><head><meta charset="utf-8"><title>\(escape(title))</title><style>
            body{font-family:system-ui,sans-serif;margin:2em;color:#222}table{border-collapse:collapse;margin:.5em 0}
            td,th{border:1px solid #ccc;padding:.2em .6em;text-align:right}th{background:#f3f3f3}td.l,th.l{text-align:left}
            .feature{border:1px solid #ddd;border-radius:6px;padding:.6em 1em;margin:1em 0}.error{color:#b00020}.warning{color:#a15c00}
            .charts{display:flex;gap:2em;flex-wrap:wrap}.muted{color:#777}
            </style></head><body>
            <h1>\(escape(title))</h1>
            <p>\(statistics.rows) rows, \(statistics.rows - statistics.validRows) malformed\(invalidReasons(statistics)); \(statistics.features.count) features\(baseline.map { "; baseline: \($0.rows) rows" } ?? "").</p>

            """
        if let validation {
            html += "<h2>Anomalies (\(validation.anomalies.count))</h2>"
            if validation.anomalies.isEmpty {
                html += "<p>None.</p>"
            } else {
                html += "<table><tr><th class=l>feature</th><th class=l>type</th><th class=l>severity</th><th class=l>description</th></tr>"
                for anomaly in validation.anomalies {
                    html += "<tr class=\(anomaly.severity.rawValue)><td class=l>\(escape(anomaly.feature))</td><td class=l>\(anomaly.type)</td><td class=l>\(anomaly.severity.rawValue)</td><td class=l>\(escape(anomaly.description))</td></tr>"
                }
                html += "</table>"
            }
        }
        html += "<h2>Features</h2>"
        for feature in statistics.features {
            let before = baseline?.feature(feature.name)
            let total = feature.present + feature.missing
            html += "<div class=feature><h3>\(escape(feature.name)) <span class=muted>\(feature.type.rawValue)</span></h3>"
            html += "<p>missing: \(feature.missing) of \(total) (\(percent(total > 0 ? Double(feature.missing) / Double(total) : 0)))"
            if let before { html += " <span class=muted>· baseline \(before.missing) of \(before.present + before.missing)</span>" }
            html += "</p>"
            for (kind, results) in [("drift", validation?.drift ?? []), ("skew", validation?.skew ?? [])] {
                for result in results where result.feature == feature.name {
                    html += "<p class=\(result.anomalous ? "error" : "muted")>\(kind): \(result.comparator.kind.rawValue) = \(format(result.value)) (threshold \(format(result.comparator.threshold)))</p>"
                }
            }
            html += "<div class=charts>"
            if feature.type == .string || feature.type == .bool {
                html += topValues(feature, caption: "data")
                if let before { html += topValues(before, caption: "baseline") }
            } else {
                html += histogram(feature, caption: "data")
                if let before { html += histogram(before, caption: "baseline") }
            }
            html += "</div></div>"
        }
        return html + "</body></html>\n"
    }

    static func invalidReasons(_ statistics: StatisticsSummary) -> String {
        statistics.invalidRows.isEmpty ? "" : " (" + statistics.invalidRows.sorted { $0.key < $1.key }.map { "\($0.value) \(escape($0.key))" }.joined(separator: ", ") + ")"
    }

    static func histogram(_ feature: StatisticsSummary.Feature, caption: String) -> String {
        let buckets = feature.histogram
        guard !buckets.isEmpty else { return "<p class=muted>\(caption): no finite values</p>" }
        let width = 300.0
        let height = 120.0
        let largest = max(buckets.map(\.count).max() ?? 1, 1)
        let barWidth = width / Double(buckets.count)
        var svg = "<figure><svg width=\(Int(width)) height=\(Int(height + 20)) xmlns=\"http://www.w3.org/2000/svg\" role=img>"
        for (index, bucket) in buckets.enumerated() {
            let barHeight = bucket.count / largest * height
            svg += "<rect x=\(format(Double(index) * barWidth + 1)) y=\(format(height - barHeight)) width=\(format(barWidth - 2)) height=\(format(barHeight)) fill=\"#4a78b5\"><title>[\(format(bucket.low)), \(format(bucket.high))): \(format(bucket.count))</title></rect>"
        }
        svg += "<text x=0 y=\(Int(height + 15)) font-size=11>\(format(buckets.first!.low))</text>"
        svg += "<text x=\(Int(width)) y=\(Int(height + 15)) font-size=11 text-anchor=end>\(format(buckets.last!.high))</text></svg>"
        var numbers = "<table><tr><th>min</th><th>median</th><th>max</th></tr><tr><td>\(feature.min.map(format) ?? "")</td>"
        numbers += "<td>\(feature.percentiles.count == 101 ? format(feature.percentiles[50]) : "")</td><td>\(feature.max.map(format) ?? "")</td></tr></table>"
        return svg + "<figcaption>\(caption)</figcaption>" + numbers + "</figure>"
    }

    static func topValues(_ feature: StatisticsSummary.Feature, caption: String) -> String {
        let top = Array(feature.topValues.prefix(10))
        guard !top.isEmpty else { return "<p class=muted>\(caption): no values</p>" }
        let largest = Double(top.map(\.count).max() ?? 1)
        var html = "<figure><table><tr><th class=l>value</th><th>count</th><th class=l></th></tr>"
        for entry in top {
            let bar = Int(Double(entry.count) / largest * 150)
            html += "<tr><td class=l>\(escape(entry.value))</td><td>\(entry.count)</td><td class=l><svg width=150 height=10><rect width=\(bar) height=10 fill=\"#4a78b5\"/></svg></td></tr>"
        }
        return html + "</table><figcaption>\(caption)\(feature.unique.map { ": \($0) distinct" } ?? "")</figcaption></figure>"
    }

    static func escape(_ text: String) -> String {
        var output = ""
        for character in text {
            switch character {
            case "&": output += "&amp;"
            case "<": output += "&lt;"
            case ">": output += "&gt;"
            case "\"": output += "&quot;"
            default: output.append(character)
            }
        }
        return output
    }

    static func percent(_ fraction: Double) -> String { "\((fraction * 1000).rounded() / 10)%" }

    static func format(_ value: Double) -> String {
        if value == value.rounded() && abs(value) < 1e12 { return String(Int64(value)) }
        let magnitude = abs(value)
        if magnitude >= 1e-3 && magnitude < 1e6 { return String((value * 10000).rounded() / 10000) }
        return String(value)
    }
}
