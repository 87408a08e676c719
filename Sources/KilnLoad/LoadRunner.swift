import KilnCore
import NIOConcurrencyHelpers
import NIOCore

/// One second of a run, for the live progress line.
public struct LoadProgress: Sendable {
    public var elapsed: Double
    public var rate: Double
    public var p50: Double
    public var p99: Double
    public var errors: Int
    public var inFlight: Int

    /// `3s  200.0 req/s  p50 0.312 ms  p99 1.204 ms  errors 0  in flight 1`.
    public var line: String {
        "\(LoadResult.format(elapsed, 0))s  \(LoadResult.format(rate, 1)) req/s  p50 \(LoadResult.format(p50, 3)) ms"
            + "  p99 \(LoadResult.format(p99, 3)) ms  errors \(errors)  in flight \(inFlight)"
    }
}

/// Runs a load plan on its event loops (one thread each). `stop()` (from any thread, e.g. on
/// Ctrl-C) ends the run early with a complete result.
public final class LoadRun: Sendable {
    public let plan: LoadPlan
    private let state = NIOLockedValueBox(State())

    private struct State {
        var stopped = false
        var stopTime: UInt64 = 0
        var workers: [LoadWorker] = []
    }

    public init(plan: LoadPlan) throws {
        self.plan = try plan.validated()
    }

    /// Stops sending; requests in flight get up to a second to finish.
    public func stop() {
        let workers = state.withLockedValue { state -> [LoadWorker] in
            guard !state.stopped else { return [] }
            state.stopped = true
            state.stopTime = uptimeNow()
            return state.workers
        }
        for worker in workers { worker.loop.execute { worker.abort() } }
    }

    public func run(progress: (@Sendable (LoadProgress) -> Void)? = nil) async throws -> LoadResult {
        let address: SocketAddress
        do {
            address = try SocketAddress.makeAddressResolvingHost(plan.target.host, port: plan.target.port)
        } catch {
            throw KilnError.invalidArgument("cannot resolve host '\(plan.target.host)': \(error)")
        }
        let loops = try (0..<plan.threads).map { _ in try SocketLoop() }
        let requests = EncodedRequests(plan: plan)
        let start = uptimeNow() + 20_000_000
        let warmup = UInt64(plan.warmup * 1e9)
        let clock = RunClock(start: start, measureStart: start + warmup,
                             end: start + warmup + UInt64(plan.measuredDuration * 1e9))
        let finished = NIOLockedValueBox(Finished(count: loops.count))
        let keepsIntervals = progress != nil
        var reporter: Task<Void, Never>?
        let results = await withCheckedContinuation { (continuation: CheckedContinuation<[WorkerResult], Never>) in
            for (index, loop) in loops.enumerated() {
                let worker = LoadWorker(loop: loop, index: index, count: loops.count, plan: plan, requests: requests,
                                        address: address, clock: clock) { result in
                    loop.stop()
                    let all = finished.withLockedValue { $0.add(result, at: index) }
                    if let all { continuation.resume(returning: all) }
                }
                worker.keepsIntervals = keepsIntervals
                let abortNow = state.withLockedValue { state in
                    state.workers.append(worker)
                    return state.stopped
                }
                loop.execute {
                    worker.start()
                    if abortNow { worker.abort() }
                }
                loop.startThread()
            }
            reporter = progress.map { report in
                Task { await Self.reportProgress(workers: state.withLockedValue { $0.workers }, clock: clock, report) }
            }
        }
        reporter?.cancel()
        let stopTime = state.withLockedValue { $0.stopped ? $0.stopTime : 0 }
        return LoadResult(plan: plan, clock: clock, workers: results, stopTime: stopTime)
    }

    /// The workers' results, once all are in.
    private struct Finished {
        var results: [WorkerResult?]
        var remaining: Int

        init(count: Int) {
            results = Array(repeating: nil, count: count)
            remaining = count
        }

        mutating func add(_ result: WorkerResult, at index: Int) -> [WorkerResult]? {
            results[index] = result
            remaining -= 1
            return remaining == 0 ? results.map { $0! } : nil
        }
    }

    private static func reportProgress(workers: [LoadWorker], clock: RunClock,
                                       _ report: @Sendable (LoadProgress) -> Void) async {
        var last = uptimeNow()
        while !Task.isCancelled {
            try? await Task.sleep(nanoseconds: 1_000_000_000)
            if Task.isCancelled { return }
            var snapshot = IntervalSnapshot()
            for worker in workers {
                let part = await withCheckedContinuation { continuation in
                    worker.loop.execute { continuation.resume(returning: worker.takeInterval()) }
                }
                snapshot.requests += part.requests
                snapshot.errors += part.errors
                snapshot.inFlight += part.inFlight
                snapshot.latency.add(part.latency)
            }
            let now = uptimeNow()
            let seconds = Double(now - last) / 1e9
            last = now
            report(LoadProgress(
                elapsed: Double(Int64(now) - Int64(clock.measureStart)) / 1e9,
                rate: Double(snapshot.requests) / max(seconds, 1e-9),
                p50: Double(snapshot.latency.valueAtPercentile(50)) / 1e6,
                p99: Double(snapshot.latency.valueAtPercentile(99)) / 1e6,
                errors: snapshot.errors, inFlight: snapshot.inFlight))
        }
    }
}

/// What a run measured.
public struct LoadResult: Sendable {
    public let url: String
    public let mode: LoadMode
    public let connections: Int
    public let threads: Int
    /// Request names, in the order of the plan.
    public let names: [String]
    public let byName: [RequestStatistics]
    public let total: RequestStatistics
    /// Seconds of the measured part: from the end of the warm-up until the last request was sent
    /// (at least the planned duration, unless stopped early).
    public let duration: Double
    /// Open loop: the mean target rate over the measured part.
    public let targetRate: Double?
    /// Open loop: requests intended in the measured part but never sent.
    public let unsent: Int
    /// Open loop: the longest a request waited for a free connection, in milliseconds.
    public let maxSendLag: Double
    public let stoppedEarly: Bool

    init(plan: LoadPlan, clock: RunClock, workers: [WorkerResult], stopTime: UInt64) {
        url = "http://\(plan.target.hostHeader)"
        mode = plan.mode
        connections = plan.connections
        threads = plan.threads
        names = plan.requests.map(\.name)
        var byName = Array(repeating: RequestStatistics(), count: plan.requests.count)
        var total = RequestStatistics()
        for worker in workers {
            for (index, statistics) in worker.byTemplate.enumerated() {
                byName[index].merge(statistics)
                total.merge(statistics)
            }
        }
        self.byName = byName
        self.total = total
        unsent = workers.reduce(0) { $0 + $1.unsent }
        maxSendLag = Double(workers.map(\.maxSendLag).max() ?? 0) / 1e6
        stoppedEarly = stopTime != 0
        let lastSend = workers.map(\.lastSend).max() ?? 0
        let stopped = workers.map(\.stoppedSending).max() ?? clock.end
        var end: UInt64
        switch plan.mode {
        case .openLoop(let rate):
            let schedule = LoadSchedule(level: rate, warmup: plan.warmup, duration: plan.duration, stages: plan.stages)
            var cursor = 0
            var scheduledEnd = clock.end
            if let maxRequests = plan.maxRequests, let time = schedule.intendedTime(of: maxRequests, cursor: &cursor) {
                scheduledEnd = min(clock.end, clock.uptime(time))
            }
            end = max(scheduledEnd, lastSend)
            let measuredStart = schedule.requests(before: plan.warmup)
            let measuredEnd = schedule.requests(before: Double(scheduledEnd - clock.start) / 1e9)
            let span = Double(scheduledEnd - clock.measureStart) / 1e9
            targetRate = span > 0 ? Double(measuredEnd - measuredStart) / span : nil
        case .closedLoop:
            end = min(clock.end, max(stopped, clock.measureStart))
            targetRate = nil
        }
        if stopTime != 0 { end = min(end, max(stopTime, clock.measureStart)) }
        duration = max(Double(end - clock.measureStart) / 1e9, 1e-9)
    }

    /// Requests per second over the measured part.
    public var rate: Double { Double(total.requests) / duration }

    /// Open loop: whether the target rate was held (within 1%, nothing left unsent).
    public var rateHeld: Bool {
        guard let targetRate else { return true }
        return unsent == 0 && rate >= 0.99 * targetRate
    }
}
