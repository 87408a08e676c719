import ArgumentParser
import Dispatch
import KilnCore
import KilnLoad

struct Load: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Load-test an HTTP server: an open-loop arrival rate (latency from each request's intended send time) or closed-loop users.",
        discussion: """
            Exit status: 0 when every --threshold holds, 1 when one is missed, 2 on a usage or input error.
            Examples:
              kiln load http://127.0.0.1:8501/v1/health/live --rate 1000 --duration 10s --threshold 'p99<5ms'
              kiln load http://127.0.0.1:8501/v1/models/wage:predict -X POST -H 'Content-Type: application/json' --body @req.json --users 8
              kiln load --scenario scenario.yaml --json result.json
            """)

    @Argument(help: "The URL to request (http://host[:port]/path); optional with a --scenario that names its url.")
    var url: String?
    @Option(name: .customShort("X"), help: "The HTTP method (default GET).") var method: String?
    @Option(name: [.customShort("H"), .customLong("header")], help: "A request header, 'Name: value' (repeatable).")
    var headers: [String] = []
    @Option(help: "The request body: text, or @FILE for a file's bytes.") var body: String?
    @Option(help: "A scenario file (YAML): named requests with weights, data, stages; options given here override it.")
    var scenario: String?
    @Option(help: "Open loop: requests per second, sent at constant intervals whatever the server does.") var rate: Double?
    @Option(help: "Closed loop: users, each sending its next request when the last is answered.") var users: Int?
    @Option(help: "Closed loop: a user's pause after each response: 100ms, or a range 50ms-150ms.") var thinkTime: String?
    @Option(help: "Open loop: the connection pool (default 10).") var connections: Int?
    @Option(help: "Event loops (threads) sending requests (default 1).") var threads: Int?
    @Option(help: "How long to measure (default 10s): 500ms, 10s, 2m.") var duration: String?
    @Option(help: "Load before measuring, excluded from the results (default none).") var warmup: String?
    @Option(help: "Stop after this many requests.") var maxRequests: Int?
    @Option(help: "A request slower than this is a timeout error (default 10s).") var timeout: String?
    @Option(help: "A ramp, DURATION:TARGET,... of rate (open loop) or users (closed loop): 10s:100,30s:400,10s:0.")
    var stages: String?
    @Option(help: "A CSV file whose columns fill ${column} in the path, headers and body, row by row.") var data: String?
    @Option(name: .customLong("json"), help: "Write the results as JSON to this file.") var jsonPath: String?
    @Option(name: .customLong("csv"), help: "Write the results per request name as CSV to this file.") var csvPath: String?
    @Option(name: .customLong("threshold"), help: "A condition for exit status 0: 'p99<50ms', 'errors<0.1%', 'rate>=900' (repeatable).")
    var thresholds: [String] = []
    @Flag(help: "No progress line each second.") var quiet = false

    func run() async throws {
        let plan = try makePlan()
        let checks = try thresholds.map(LoadThreshold.init)
        let run = try LoadRun(plan: plan)
        signal(SIGINT, SIG_IGN)
        let interrupt = DispatchSource.makeSignalSource(signal: SIGINT, queue: .global())
        interrupt.setEventHandler { run.stop() }
        interrupt.resume()
        defer { interrupt.cancel() }
        let result = try await run.run(progress: quiet ? nil : Self.printProgress)
        print(result.table, terminator: "")
        if let jsonPath { try FileIO.write(Array((result.json.pretty + "\n").utf8), to: jsonPath) }
        if let csvPath { try FileIO.write(Array(result.csv.utf8), to: csvPath) }
        var failed = false
        for check in checks {
            print(check.verdict(for: result))
            failed = failed || !check.holds(for: result)
        }
        if failed { throw ExitCode(1) }
    }

    private func makePlan() throws -> LoadPlan {
        let scenario = try self.scenario.map(LoadScenario.load(path:))
        guard let address = url ?? scenario?.url else {
            throw ValidationError("give the URL to load (or a --scenario with a url)")
        }
        let (target, path) = try LoadTarget.parse(url: address)
        var requests = scenario?.requests ?? []
        if requests.isEmpty || url != nil && (method != nil || body != nil || !headers.isEmpty || scenario == nil) {
            requests = [try commandLineRequest(path: path)]
        }
        let usersValue = users ?? (rate == nil ? scenario?.users : nil)
        let rateValue = rate ?? (users == nil ? scenario?.rate : nil)
        let mode: LoadMode
        if let usersValue {
            guard rateValue == nil else { throw ValidationError("--rate (open loop) and --users (closed loop) exclude each other") }
            mode = .closedLoop(users: usersValue)
        } else if let rateValue {
            mode = .openLoop(rate: rateValue)
        } else if stages != nil || scenario?.stages != nil {
            mode = .openLoop(rate: 0)
        } else {
            throw ValidationError("give --rate R (open loop, requests per second) or --users N (closed loop)")
        }
        var plan = LoadPlan(target: target, requests: requests, mode: mode)
        if let value = duration ?? nil { plan.duration = try LoadDuration.parse(value) } else if let value = scenario?.duration { plan.duration = value }
        if let value = warmup { plan.warmup = try LoadDuration.parse(value) } else if let value = scenario?.warmup { plan.warmup = value }
        if let value = timeout { plan.timeout = try LoadDuration.parse(value) } else if let value = scenario?.timeout { plan.timeout = value }
        if let value = stages { plan.stages = try LoadStage.parseList(value) } else if let value = scenario?.stages { plan.stages = value }
        if let value = thinkTime { plan.thinkTime = try Self.thinkRange(value) } else if let value = scenario?.thinkTime { plan.thinkTime = value }
        plan.connections = connections ?? scenario?.connections ?? plan.connections
        plan.threads = threads ?? scenario?.threads ?? plan.threads
        plan.maxRequests = maxRequests ?? scenario?.maxRequests
        plan.seed = scenario?.seed ?? plan.seed
        if let data { plan.data = try RequestData(csvPath: data) } else { plan.data = scenario?.data }
        if case .closedLoop = mode, connections != nil {
            throw ValidationError("--connections is for the open loop; in a closed loop each user has its connection")
        }
        if case .openLoop = mode, thinkTime != nil {
            throw ValidationError("--think-time is for closed-loop --users; an open loop sends at --rate")
        }
        return try plan.validated()
    }

    private func commandLineRequest(path: String) throws -> RequestTemplate {
        var parsedHeaders: [(String, String)] = []
        for header in headers {
            guard let colon = header.firstIndex(of: ":") else { throw ValidationError("a header is 'Name: value', got '\(header)'") }
            parsedHeaders.append((String(header[..<colon]), String(header[header.index(after: colon)...].drop { $0 == " " })))
        }
        var bytes: [UInt8] = []
        if let body { bytes = body.hasPrefix("@") ? try FileIO.read(String(body.dropFirst())) : Array(body.utf8) }
        let verb = (method ?? (body == nil ? "GET" : "POST")).uppercased()
        return RequestTemplate(method: verb, path: path, headers: parsedHeaders, body: bytes)
    }

    @Sendable private static func printProgress(_ progress: LoadProgress) {
        printToStandardError(progress.line)
    }

    private static func thinkRange(_ text: String) throws -> ClosedRange<Double> {
        let parts = text.split(separator: "-")
        let low = try LoadDuration.parse(String(parts[0]))
        let high = parts.count > 1 ? try LoadDuration.parse(String(parts[1])) : low
        guard parts.count <= 2, low <= high else { throw ValidationError("--think-time is 100ms or 50ms-150ms, got '\(text)'") }
        return low...high
    }
}

#if canImport(Glibc)
import Glibc
#endif
