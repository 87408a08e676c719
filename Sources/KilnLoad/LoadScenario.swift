import KilnCore
import Yams

/// A scenario file (YAML): several named requests with weights, headers and bodies, data rows
/// for `${column}` placeholders, and the load's shape. Command-line options override it.
///
/// ```yaml
/// url: http://127.0.0.1:8501
/// rate: 200                 # or users: 10 (closed loop), with think_time: [50ms, 150ms]
/// duration: 30s
/// stages: [{duration: 10s, target: 100}, {duration: 20s, target: 400}]
/// data: patients.csv        # fills ${column} in paths, headers and bodies
/// requests:
///   - name: predict
///     method: POST
///     path: /v1/models/wage:predict
///     weight: 3
///     headers: {Content-Type: application/json}
///     body_file: predict.json
///   - name: health
///     path: /v1/health/ready
/// ```
public struct LoadScenario: Sendable {
    public var url: String?
    public var requests: [RequestTemplate] = []
    public var rate: Double?
    public var users: Int?
    public var connections: Int?
    public var threads: Int?
    public var duration: Double?
    public var warmup: Double?
    public var timeout: Double?
    public var maxRequests: Int?
    public var thinkTime: ClosedRange<Double>?
    public var stages: [LoadStage]?
    public var data: RequestData?
    public var seed: UInt64?

    public static func load(path: String) throws -> LoadScenario {
        let text = String(decoding: try FileIO.read(path), as: UTF8.self)
        let folder = path.contains("/") ? String(path[..<path.lastIndex(of: "/")!]) : "."
        let document: Any?
        do {
            document = try Yams.load(yaml: text)
        } catch {
            throw KilnError.format("\(path): not valid YAML: \(error)")
        }
        guard let root = document as? [String: Any] else { throw KilnError.format("\(path): a scenario is a YAML mapping") }
        return try LoadScenario(root, folder: folder, file: path)
    }

    init(_ root: [String: Any], folder: String, file: String) throws {
        let known: Set<String> = ["url", "requests", "rate", "users", "connections", "threads", "duration", "warmup",
                                  "timeout", "max_requests", "think_time", "stages", "data", "seed"]
        try Self.checkKeys(root, known, "\(file)")
        url = try Self.string(root["url"], "url")
        rate = try root["rate"].map { try Self.number($0, "rate") }
        users = try root["users"].map { try Self.integer($0, "users") }
        connections = try root["connections"].map { try Self.integer($0, "connections") }
        threads = try root["threads"].map { try Self.integer($0, "threads") }
        maxRequests = try root["max_requests"].map { try Self.integer($0, "max_requests") }
        seed = try root["seed"].map { UInt64(try Self.integer($0, "seed")) }
        duration = try root["duration"].map { try Self.duration($0, "duration") }
        warmup = try root["warmup"].map { try Self.duration($0, "warmup") }
        timeout = try root["timeout"].map { try Self.duration($0, "timeout") }
        if let value = root["think_time"] {
            if let pair = value as? [Any] {
                guard pair.count == 2 else { throw KilnError.invalidArgument("think_time: a duration or [min, max]") }
                let low = try Self.duration(pair[0], "think_time"), high = try Self.duration(pair[1], "think_time")
                guard low <= high else { throw KilnError.invalidArgument("think_time: min is larger than max") }
                thinkTime = low...high
            } else {
                let fixed = try Self.duration(value, "think_time")
                thinkTime = fixed...fixed
            }
        }
        if let value = root["stages"] {
            guard let list = value as? [Any] else { throw KilnError.invalidArgument("stages: a list of {duration, target}") }
            stages = try list.enumerated().map { index, item in
                guard let stage = item as? [String: Any] else { throw KilnError.invalidArgument("stages[\(index)]: a mapping {duration, target}") }
                try Self.checkKeys(stage, ["duration", "target"], "stages[\(index)]")
                guard let duration = stage["duration"], let target = stage["target"] else {
                    throw KilnError.invalidArgument("stages[\(index)]: needs duration and target")
                }
                return LoadStage(duration: try Self.duration(duration, "stages[\(index)].duration"),
                                 target: try Self.number(target, "stages[\(index)].target"))
            }
        }
        if let value = root["data"] {
            guard let name = value as? String else { throw KilnError.invalidArgument("data: the path of a CSV file") }
            data = try RequestData(csvPath: name.hasPrefix("/") ? name : folder + "/" + name)
        }
        guard let list = root["requests"] as? [Any], !list.isEmpty else {
            throw KilnError.invalidArgument("\(file): requests: a non-empty list of requests")
        }
        requests = try list.enumerated().map { index, item in
            try Self.request(item, field: "requests[\(index)]", folder: folder, base: url)
        }
    }

    private static func request(_ item: Any, field: String, folder: String, base: String?) throws -> RequestTemplate {
        guard let map = item as? [String: Any] else { throw KilnError.invalidArgument("\(field): a mapping") }
        try checkKeys(map, ["name", "method", "path", "url", "headers", "body", "body_file", "weight"], field)
        var path = try string(map["path"], "\(field).path")
        if let url = try string(map["url"], "\(field).url") {
            let parsed = try LoadTarget.parse(url: url)
            if let base, try LoadTarget.parse(url: base).target != parsed.target {
                throw KilnError.invalidArgument("\(field).url: \(url) is not on \(base) (one origin per run)")
            }
            path = parsed.path
        }
        let method = (try string(map["method"], "\(field).method") ?? "GET").uppercased()
        var headers: [(String, String)] = []
        if let value = map["headers"] {
            guard let table = value as? [String: Any] else { throw KilnError.invalidArgument("\(field).headers: a mapping of names to values") }
            headers = table.keys.sorted().map { ($0, "\(table[$0]!)") }
        }
        var body: [UInt8] = []
        if let text = try string(map["body"], "\(field).body") { body = Array(text.utf8) }
        if let file = try string(map["body_file"], "\(field).body_file") {
            guard map["body"] == nil else { throw KilnError.invalidArgument("\(field): body and body_file together") }
            body = try FileIO.read(file.hasPrefix("/") ? file : folder + "/" + file)
        }
        let weight = try map["weight"].map { try integer($0, "\(field).weight") } ?? 1
        let name = try string(map["name"], "\(field).name")
        return RequestTemplate(name: name, method: method, path: path ?? "/", headers: headers, body: body, weight: weight)
    }

    private static func checkKeys(_ map: [String: Any], _ known: Set<String>, _ field: String) throws {
        for key in map.keys.sorted() where !known.contains(key) {
            throw KilnError.invalidArgument("\(field): unknown field '\(key)' (known: \(known.sorted().joined(separator: ", ")))")
        }
    }

    private static func string(_ value: Any?, _ field: String) throws -> String? {
        guard let value else { return nil }
        if let text = value as? String { return text }
        if value is Int || value is Double || value is Bool { return "\(value)" }
        throw KilnError.invalidArgument("\(field): expected text")
    }

    private static func number(_ value: Any, _ field: String) throws -> Double {
        if let number = value as? Int { return Double(number) }
        if let number = value as? Double, number.isFinite { return number }
        throw KilnError.invalidArgument("\(field): expected a number, got '\(value)'")
    }

    private static func integer(_ value: Any, _ field: String) throws -> Int {
        guard let number = value as? Int, number >= 0 else { throw KilnError.invalidArgument("\(field): expected a whole number, got '\(value)'") }
        return number
    }

    private static func duration(_ value: Any, _ field: String) throws -> Double {
        if let seconds = value as? Int { return Double(seconds) }
        if let seconds = value as? Double, seconds >= 0 { return seconds }
        if let text = value as? String {
            do { return try LoadDuration.parse(text) } catch { throw KilnError.invalidArgument("\(field): \(error)") }
        }
        throw KilnError.invalidArgument("\(field): expected a duration such as 5s or 250ms")
    }
}
