import Histogram
import KilnCore
import NIOCore

/// What one event loop measured.
struct WorkerResult: Sendable {
    var byTemplate: [RequestStatistics]
    /// Open loop: requests intended before the end (or before a stop) that were never sent (the
    /// server never let the backlog drain).
    var unsent = 0
    /// The largest delay between a request's intended time and its sending, in nanoseconds.
    var maxSendLag: UInt64 = 0
    /// When the last measured request was sent (uptime nanoseconds; 0 if none).
    var lastSend: UInt64 = 0
    /// When the worker stopped sending (uptime nanoseconds).
    var stoppedSending: UInt64 = 0
}

/// What one event loop measured since the last progress report.
struct IntervalSnapshot: Sendable {
    var requests = 0
    var errors = 0
    var inFlight = 0
    var latency = LatencyHistogram(lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000_000,
                                   numberOfSignificantValueDigits: .two)
}

/// The timing of one run, in uptime nanoseconds, shared by every worker.
struct RunClock: Sendable {
    /// Time 0 of the schedule.
    let start: UInt64
    /// The end of the warm-up: requests intended (open loop) or sent (closed loop) earlier are not recorded.
    let measureStart: UInt64
    /// No request is intended at or after this.
    let end: UInt64

    func uptime(_ seconds: Double) -> UInt64 { start + UInt64(max(0, seconds) * 1e9) }
}

@inline(__always) func uptimeNow() -> UInt64 { NIODeadline.now().uptimeNanoseconds }

/// One connection of a worker and the request it carries (at most one: no pipelining).
final class LoadConnection {
    /// Open or opening; nil until the next request opens one.
    var socket: LoadSocket?
    var scanner = HTTPResponseScanner()
    var busy = false
    /// Closed loop: whether this connection's user is running.
    var userActive = false
    var index = 0
    var template = 0
    var intended: UInt64 = 0
    var sent: UInt64 = 0
    var bytesReceived = 0
    var bytesSent = 0
}

/// The load of one event loop: its share of the connections or users, the requests it sends and
/// what it measured. Everything here runs on its loop's thread (`takeInterval` also after the
/// loop has ended).
final class LoadWorker: @unchecked Sendable {
    let loop: SocketLoop
    let workerIndex: Int
    let workerCount: Int
    let plan: LoadPlan
    let requests: EncodedRequests
    let isHead: [Bool]
    let address: SocketAddress
    let clock: RunClock
    let schedule: LoadSchedule
    let timeoutNanoseconds: UInt64

    private var connections: [LoadConnection] = []
    private var idle: [LoadConnection] = []
    private var stats: [RequestStatistics]
    private var interval = IntervalSnapshot()
    /// Whether a progress reporter reads the intervals (else they are not kept).
    var keepsIntervals = true
    private var result = WorkerResult(byTemplate: [])
    private let onFinish: (WorkerResult) -> Void

    /// Requests this worker has started: request `sentCount` next has global index
    /// `sentCount * workerCount + workerIndex`.
    private var sentCount = 0
    private var cursor = 0
    private var nextIntended: UInt64?
    private var timer: TimerHeap.ID?
    private var inFlight = 0
    private var stopping = false
    /// After an abort: in-flight requests still unanswered then are dropped.
    private var abortDeadline: UInt64?
    private var finished = false

    /// `onFinish` is called on the loop's thread when the worker is done.
    init(loop: SocketLoop, index: Int, count: Int, plan: LoadPlan, requests: EncodedRequests,
         address: SocketAddress, clock: RunClock, onFinish: @escaping (WorkerResult) -> Void) {
        self.loop = loop
        self.workerIndex = index
        self.workerCount = count
        self.plan = plan
        self.requests = requests
        self.isHead = plan.requests.map { $0.method == "HEAD" }
        self.address = address
        self.clock = clock
        let level: Double
        switch plan.mode {
        case .openLoop(let rate): level = rate
        case .closedLoop(let users): level = Double(users)
        }
        schedule = LoadSchedule(level: level, warmup: plan.warmup, duration: plan.duration, stages: plan.stages)
        timeoutNanoseconds = UInt64(plan.timeout * 1e9)
        stats = Array(repeating: RequestStatistics(), count: plan.requests.count)
        self.onFinish = onFinish
    }

    var isOpenLoop: Bool {
        if case .openLoop = plan.mode { return true }
        return false
    }

    /// Starts the load at the clock's start.
    func start() {
        if isOpenLoop {
            let share = plan.connections / workerCount + (workerIndex < plan.connections % workerCount ? 1 : 0)
            connections = (0..<share).map { _ in LoadConnection() }
            idle = connections.reversed()
            nextIntended = intendedTime(of: globalIndex(sentCount))
            armTimer()
        } else {
            loop.schedule(at: clock.start) { self.adjustUsers() }
        }
        scheduleSweep()
    }

    /// Stops sending; requests in flight get one more second.
    func abort() {
        guard !stopping else { return }
        stopping = true
        abortDeadline = uptimeNow() + 1_000_000_000
        stopSending()
    }

    /// The measurements since the previous call.
    func takeInterval() -> IntervalSnapshot {
        var snapshot = interval
        snapshot.inFlight = inFlight
        interval.requests = 0
        interval.errors = 0
        interval.latency.reset()
        return snapshot
    }

    // MARK: - Open loop

    private func globalIndex(_ local: Int) -> Int { local * workerCount + workerIndex }

    private func intendedTime(of index: Int) -> UInt64? {
        if let maxRequests = plan.maxRequests, index >= maxRequests { return nil }
        guard let seconds = schedule.intendedTime(of: index, cursor: &cursor) else { return nil }
        return clock.uptime(seconds)
    }

    /// Sends every request that is due on an idle connection, then sleeps until the next one.
    private func pump(now: UInt64? = nil) {
        guard !stopping else { return }
        let now = now ?? uptimeNow()
        while let intended = nextIntended, intended <= now {
            guard let connection = idle.popLast() else { return }  // a completion pumps again
            let index = globalIndex(sentCount)
            sentCount += 1
            nextIntended = intendedTime(of: globalIndex(sentCount))
            send(on: connection, index: index, intended: intended, now: now)
        }
        if nextIntended == nil { stopSending() } else { armTimer() }
    }

    private func armTimer() {
        guard timer == nil, let next = nextIntended, !idle.isEmpty else { return }
        timer = loop.schedule(at: next) {
            self.timer = nil
            self.pump()
        }
    }

    // MARK: - Closed loop

    /// Starts or stops users to follow the schedule.
    private func adjustUsers() {
        guard !stopping else { return }
        let now = uptimeNow()
        if now >= clock.end {
            stopSending()
            return
        }
        let level = schedule.level(at: Double(now - clock.start) / 1e9)
        let total = Int(level.rounded())
        let mine = total > workerIndex ? (total - workerIndex + workerCount - 1) / workerCount : 0
        while connections.count < mine { connections.append(LoadConnection()) }
        for (position, connection) in connections.enumerated() {
            let active = position < mine
            if active && !connection.userActive {
                connection.userActive = true
                if !connection.busy { nextUserRequest(connection) }
            } else if !active {
                connection.userActive = false
            }
        }
        // Ramps need the level followed closely; a constant level needs only the end.
        let delay: UInt64 = plan.stages.isEmpty ? clock.end - now : min(100_000_000, clock.end - now)
        loop.schedule(at: now + delay) { self.adjustUsers() }
    }

    /// `now`, when given, is a reading of the clock taken just before (it saves another).
    private func nextUserRequest(_ connection: LoadConnection, now: UInt64? = nil) {
        guard connection.userActive, !stopping else { return finishIfDone() }
        let now = now ?? uptimeNow()
        let index = globalIndex(sentCount)
        if now >= clock.end || (plan.maxRequests.map { index >= $0 } ?? false) {
            stopSending()
            return
        }
        sentCount += 1
        send(on: connection, index: index, intended: now, now: now)
    }

    private func thinkThenContinue(_ connection: LoadConnection, after index: Int, now: UInt64) {
        let think = plan.thinkTime
        guard think.upperBound > 0 else { return nextUserRequest(connection, now: now) }
        var random = Philox(seed: plan.seed).stream(UInt64(index))
        let seconds = think.lowerBound + (think.upperBound - think.lowerBound) * random.nextUnitDouble()
        loop.schedule(at: now + UInt64(seconds * 1e9)) { self.nextUserRequest(connection) }
    }

    // MARK: - Requests

    private func send(on connection: LoadConnection, index: Int, intended: UInt64, now: UInt64) {
        connection.busy = true
        connection.index = index
        connection.template = requests.template(index)
        connection.intended = intended
        connection.sent = now
        inFlight += 1
        if intended >= clock.measureStart, now - intended > result.maxSendLag { result.maxSendLag = now - intended }
        if let socket = connection.socket {
            write(connection, on: socket, now: now)
        } else {
            connect(connection)
        }
    }

    private func write(_ connection: LoadConnection, on socket: LoadSocket, now: UInt64) {
        let buffer = requests.buffer(template: connection.template, index: connection.index)
        connection.sent = now
        if !isOpenLoop { connection.intended = now }  // a closed loop has no schedule: both latencies agree
        connection.bytesReceived = 0
        connection.bytesSent = buffer.readableBytes
        connection.scanner.expectsNoBody = isHead[connection.template]
        if shouldRecord(connection), now > result.lastSend { result.lastSend = now }
        socket.send(buffer)
    }

    private func connect(_ connection: LoadConnection) {
        do {
            connection.socket = try LoadSocket(connectingTo: address, on: loop, worker: self, connection: connection)
            connection.scanner = HTTPResponseScanner()
        } catch {  // no socket at all (out of descriptors): a connect error, said from the loop
            loop.schedule(at: 0) { if connection.busy && connection.socket == nil { self.fail(connection, .connect) } }
        }
    }

    /// The connection's socket is open: its request goes out.
    func connected(_ socket: LoadSocket, for connection: LoadConnection) {
        guard connection.socket === socket, connection.busy else {  // its request ended meanwhile
            if connection.socket === socket { drop(connection) } else { socket.close() }
            return
        }
        write(connection, on: socket, now: uptimeNow())
    }

    private func shouldRecord(_ connection: LoadConnection) -> Bool {
        isOpenLoop ? connection.intended >= clock.measureStart : connection.sent >= clock.measureStart
    }

    /// Bytes from the connection's socket `socket` (a socket dropped since is not the connection's).
    func received(_ bytes: UnsafeRawBufferPointer, from socket: LoadSocket, for connection: LoadConnection) {
        guard connection.socket === socket else { return }
        guard connection.busy else {  // bytes nobody asked for: the connection is out of step
            drop(connection)
            return
        }
        connection.bytesReceived += bytes.count
        var response: HTTPResponseScanner.Response?
        do {
            try connection.scanner.scan(bytes) { response = $0 }
        } catch {
            fail(connection, .invalidResponse)
            return
        }
        if let response { complete(connection, response) }
    }

    /// The socket was closed by the server or broke (or never connected).
    func closed(_ socket: LoadSocket, for connection: LoadConnection, connectFailed: Bool) {
        guard connection.socket === socket else { return }
        connection.socket = nil
        guard connection.busy else { return }
        if connectFailed {
            fail(connection, .connect)
        } else if let response = connection.scanner.closed() {
            complete(connection, response)
        } else {
            fail(connection, .closed)
        }
    }

    private func complete(_ connection: LoadConnection, _ response: HTTPResponseScanner.Response) {
        let now = uptimeNow()
        if shouldRecord(connection) {
            let corrected = now - min(now, connection.intended)
            let uncorrected = now - min(now, connection.sent)
            stats[connection.template].recordResponse(status: response.status, corrected: corrected, uncorrected: uncorrected,
                                                      bytesReceived: connection.bytesReceived, bytesSent: connection.bytesSent)
            if keepsIntervals {
                interval.requests += 1
                if response.status >= 400 { interval.errors += 1 }
                _ = interval.latency.record(min(corrected, interval.latency.highestTrackableValue))
            }
        }
        if !response.keepAlive { drop(connection) }
        release(connection, now: now)
    }

    private func fail(_ connection: LoadConnection, _ kind: LoadErrorKind) {
        if shouldRecord(connection) {
            stats[connection.template].recordError(kind)
            stats[connection.template].bytesSent += connection.bytesSent
            interval.requests += 1
            interval.errors += 1
        }
        drop(connection)
        release(connection, after: kind == .connect)
    }

    /// Closes the connection; the next request opens a new one.
    private func drop(_ connection: LoadConnection) {
        connection.socket?.close()
        connection.socket = nil
        connection.scanner = HTTPResponseScanner()
    }

    /// The connection's request is over: it takes the next one.
    private func release(_ connection: LoadConnection, after connectFailure: Bool = false, now: UInt64? = nil) {
        connection.busy = false
        connection.bytesSent = 0
        inFlight -= 1
        if isOpenLoop {
            idle.append(connection)
            pump(now: now)
        } else if connectFailure {
            // Pace a user whose server is gone instead of spinning.
            loop.schedule(at: uptimeNow() + 10_000_000) { self.nextUserRequest(connection) }
        } else {
            thinkThenContinue(connection, after: connection.index, now: now ?? uptimeNow())
        }
        finishIfDone()
    }

    private func scheduleSweep() {
        let tick = min(100_000_000, max(1_000_000, timeoutNanoseconds / 4))
        loop.schedule(at: uptimeNow() + tick) {
            guard !self.finished else { return }
            self.sweep()
            self.scheduleSweep()
        }
    }

    /// Fails requests past the timeout; ends an aborted run.
    private func sweep() {
        let now = uptimeNow()
        if let deadline = abortDeadline, now >= deadline {
            for connection in connections where connection.busy {
                connection.busy = false
                inFlight -= 1
                drop(connection)
            }
            finishIfDone()
            return
        }
        for connection in connections where connection.busy && now - connection.sent > timeoutNanoseconds {
            fail(connection, connection.socket?.isConnecting == true ? .connect : .timeout)
        }
        // The server never drained the backlog: give up one timeout after the end.
        if isOpenLoop, !stopping, now > clock.end + timeoutNanoseconds {
            stopping = true
            stopSending()
        }
    }

    /// No new requests; counts the open loop's unsent ones.
    private func stopSending() {
        if result.stoppedSending == 0 { result.stoppedSending = uptimeNow() }
        if isOpenLoop {
            if let timer { loop.cancel(timer) }
            timer = nil
            // Stopped (Ctrl-C): what was due by then and never left; else all that was left.
            let cutoff = abortDeadline.map { $0 - 1_000_000_000 } ?? .max
            while let intended = nextIntended, intended < cutoff {
                if intended >= clock.measureStart { result.unsent += 1 }
                sentCount += 1
                nextIntended = intendedTime(of: globalIndex(sentCount))
            }
            nextIntended = nil
        } else {
            stopping = true
        }
        finishIfDone()
    }

    private func finishIfDone() {
        guard !finished, inFlight == 0 else { return }
        if isOpenLoop {
            guard nextIntended == nil else { return }
        } else {
            guard stopping else { return }
        }
        finished = true
        if let timer { loop.cancel(timer) }
        for connection in connections { drop(connection) }
        result.byTemplate = stats
        onFinish(result)
    }
}
