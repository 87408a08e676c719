import KilnCore
import NIOConcurrencyHelpers

/// Request counters and latency histograms in Prometheus' text exposition format, served at
/// `/metrics` and at TensorFlow Serving's `/monitoring/prometheus/metrics`.
public final class ServerMetrics: Sendable {
    /// Latency histogram bucket bounds, in seconds.
    static let latencyBounds = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]
    /// Instances-per-request histogram bucket bounds.
    static let batchBounds = [1.0, 2, 4, 8, 16, 32, 64, 128, 256]

    struct Histogram {
        var buckets: [Int]
        var sum = 0.0
        var count = 0

        init(bounds: Int) { buckets = [Int](repeating: 0, count: bounds) }

        mutating func observe(_ value: Double, bounds: [Double]) {
            for (index, bound) in bounds.enumerated() where value <= bound { buckets[index] += 1 }
            sum += value
            count += 1
        }
    }

    struct State {
        var requests: [String: Int] = [:]
        var latency: [String: Histogram] = [:]
        var batch: [String: Histogram] = [:]
        var batchSize: [String: Histogram] = [:]
    }

    private let state = NIOLockedValueBox(State())

    init() {}

    /// Records one request: its model and version (empty for other routes), HTTP status,
    /// duration and number of instances.
    func record(model: String, version: String, status: Int, seconds: Double, instances: Int?) {
        let labels = "model=\"\(escape(model))\",version=\"\(escape(version))\",status=\"\(status)\""
        state.withLockedValue { state in
            state.requests[labels, default: 0] += 1
            let key = "model=\"\(escape(model))\""
            state.latency[key, default: Histogram(bounds: Self.latencyBounds.count)].observe(seconds, bounds: Self.latencyBounds)
            if let instances {
                state.batch[key, default: Histogram(bounds: Self.batchBounds.count)].observe(Double(instances), bounds: Self.batchBounds)
            }
        }
    }

    /// Records one model run of `size` instances assembled by the dynamic batcher.
    func recordBatch(model: String, size: Int) {
        state.withLockedValue { state in
            state.batchSize["model=\"\(escape(model))\"", default: Histogram(bounds: Self.batchBounds.count)]
                .observe(Double(size), bounds: Self.batchBounds)
        }
    }

    /// The exposition text, with the repository's model figures.
    func text(_ repository: ModelRepository) -> String {
        let snapshot = state.withLockedValue { $0 }
        var lines: [String] = []
        lines.append("# HELP kiln_requests_total Requests by model, version and HTTP status.")
        lines.append("# TYPE kiln_requests_total counter")
        for key in snapshot.requests.keys.sorted() { lines.append("kiln_requests_total{\(key)} \(snapshot.requests[key]!)") }
        func histogram(_ name: String, _ help: String, _ values: [String: Histogram], _ bounds: [Double]) {
            lines.append("# HELP \(name) \(help)")
            lines.append("# TYPE \(name) histogram")
            for key in values.keys.sorted() {
                let histogram = values[key]!
                for (index, bound) in bounds.enumerated() {
                    lines.append("\(name)_bucket{\(key),le=\"\(bound)\"} \(histogram.buckets[index])")
                }
                lines.append("\(name)_bucket{\(key),le=\"+Inf\"} \(histogram.count)")
                lines.append("\(name)_sum{\(key)} \(histogram.sum)")
                lines.append("\(name)_count{\(key)} \(histogram.count)")
            }
        }
        histogram("kiln_request_duration_seconds", "Request latency by model.", snapshot.latency, Self.latencyBounds)
        histogram("kiln_request_instances", "Instances per predict request by model.", snapshot.batch, Self.batchBounds)
        histogram("kiln_batch_size", "Instances per model run assembled by dynamic batching, by model.", snapshot.batchSize, Self.batchBounds)
        let (loadSeconds, loadFailures) = repository.loadFigures
        let available = repository.available
        lines.append("# HELP kiln_model_load_seconds Time to load, plan and warm up each model version in service.")
        lines.append("# TYPE kiln_model_load_seconds gauge")
        for (model, versions) in loadSeconds.sorted(by: { $0.key < $1.key }) {
            for (version, seconds) in versions.sorted(by: { $0.key < $1.key }) {
                lines.append("kiln_model_load_seconds{model=\"\(escape(model))\",version=\"\(version)\"} \(seconds)")
            }
        }
        lines.append("# HELP kiln_model_load_failures_total Model versions that failed to load, by model.")
        lines.append("# TYPE kiln_model_load_failures_total counter")
        for (model, count) in loadFailures.sorted(by: { $0.key < $1.key }) {
            lines.append("kiln_model_load_failures_total{model=\"\(escape(model))\"} \(count)")
        }
        lines.append("# HELP kiln_model_versions_available Versions in service, by model.")
        lines.append("# TYPE kiln_model_versions_available gauge")
        for (model, versions) in available.sorted(by: { $0.key < $1.key }) {
            lines.append("kiln_model_versions_available{model=\"\(escape(model))\"} \(versions.count)")
        }
        lines.append("# HELP kiln_batch_queue_instances Instances waiting for a batch, by model version.")
        lines.append("# TYPE kiln_batch_queue_instances gauge")
        for (model, versions) in available.sorted(by: { $0.key < $1.key }) {
            for served in versions {
                guard let batcher = served.batcher else { continue }
                lines.append("kiln_batch_queue_instances{model=\"\(escape(model))\",version=\"\(served.version)\"} \(batcher.depth.withLockedValue { $0 })")
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    private func escape(_ text: String) -> String {
        var output = ""
        for character in text {
            switch character {
            case "\\": output += "\\\\"
            case "\"": output += "\\\""
            case "\n": output += "\\n"
            default: output.append(character)
            }
        }
        return output
    }
}
