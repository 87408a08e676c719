import KilnCore
import NIOCore
import Testing
@testable import KilnLoad

/// Runs against a loopback server with known behaviour; serialized, since they measure time (and
/// `make test` runs this suite on its own, after the others, so that their work does not delay it).
@Suite(.serialized) struct LoadRunTests {
    func plan(_ server: ScriptedServer, path: String = "/", _ mode: LoadMode, duration: Double,
              connections: Int = 4) throws -> LoadPlan {
        let (target, _) = try LoadTarget.parse(url: server.url)
        var plan = LoadPlan(target: target, requests: [RequestTemplate(path: path)], mode: mode)
        plan.duration = duration
        plan.connections = connections
        return plan
    }

    @Test func openLoopCountsAreExactAndErrorsClassified() async throws {
        let server = try ScriptedServer(.init(failEvery: 10))
        defer { server.shutdown() }
        let result = try await LoadRun(plan: plan(server, .openLoop(rate: 200), duration: 2)).run()
        #expect(result.total.requests == 400)
        #expect(server.count == 400)
        #expect(result.total.errors[.status5xx] == 40)
        #expect(result.total.statusCodes == [200: 360, 500: 40])
        #expect(result.total.errorCount == 40)
        #expect(abs(result.rate - 200) < 10)  // exact unless a send was late on a busy machine
        #expect(result.total.bytesReceived > 400 * 3)
    }

    /// The server stalls 300 ms of every second. Requests intended in a stall wait for its end, so
    /// their corrected latency is uniform on (0, 300 ms] and 30% of requests are in stalls: the
    /// corrected p90 is 300 * (1 - 0.1 / 0.3) = 200 ms and p99 is 290 ms. Uncorrected, only the
    /// request in flight on each of the 2 connections waits (2 of 400 per second): p90 stays small.
    @Test func correctedPercentilesShowAStallThatUncorrectedOnesHide() async throws {
        let server = try ScriptedServer(.init(stall: .milliseconds(300), period: .seconds(1)))
        defer { server.shutdown() }
        let result = try await LoadRun(plan: plan(server, .openLoop(rate: 400), duration: 3, connections: 2)).run()
        #expect(result.total.requests == 1200)
        let corrected = result.total.latency, uncorrected = result.total.uncorrectedLatency
        #expect(abs(corrected.p90 - 200) < 30, "corrected p90 \(corrected.p90) ms")
        #expect(abs(corrected.p99 - 290) < 30, "corrected p99 \(corrected.p99) ms")
        #expect(corrected.max > 250)
        #expect(uncorrected.p90 < 20, "uncorrected p90 \(uncorrected.p90) ms")
        #expect(uncorrected.max > 150)  // the requests caught in flight
    }

    @Test func closedLoopUsersWaitForEachAnswer() async throws {
        let server = try ScriptedServer(.init(latency: .milliseconds(20)))
        defer { server.shutdown() }
        var plan = try plan(server, .closedLoop(users: 2), duration: 1)
        plan.connections = 1
        let result = try await LoadRun(plan: plan).run()
        // Two users, 20 ms per answer: about 100 requests in a second.
        #expect((85...101).contains(result.total.requests), "\(result.total.requests) requests")
        #expect(result.total.latency.p50 >= 20 && result.total.latency.p50 < 30)
        #expect(result.total.latency == result.total.uncorrectedLatency)
        #expect(result.targetRate == nil)
    }

    @Test func thinkTimeSlowsUsers() async throws {
        let server = try ScriptedServer()
        defer { server.shutdown() }
        var plan = try plan(server, .closedLoop(users: 1), duration: 1)
        plan.thinkTime = 0.05...0.05
        let result = try await LoadRun(plan: plan).run()
        #expect((17...21).contains(result.total.requests), "\(result.total.requests) requests")
    }

    @Test func closedConnectionsAndTimeoutsAreErrors() async throws {
        let closing = try ScriptedServer(.init(closeEvery: 5))
        defer { closing.shutdown() }
        let closed = try await LoadRun(plan: plan(closing, .openLoop(rate: 100), duration: 1)).run()
        #expect(closed.total.requests == 100)
        #expect(closed.total.errors[.closed] == 20)
        #expect(closed.total.statusCodes[200] == 80)

        let slow = try ScriptedServer(.init(latency: .milliseconds(400)))
        defer { slow.shutdown() }
        var slowPlan = try plan(slow, .openLoop(rate: 20), duration: 1, connections: 20)
        slowPlan.timeout = 0.1
        let timedOut = try await LoadRun(plan: slowPlan).run()
        #expect(timedOut.total.requests == 20)
        #expect(timedOut.total.errors[.timeout] == 20)
    }

    /// A body larger than the socket takes at once goes out in parts as it drains, and an answer
    /// larger than one read comes in parts: every request completes, counted exactly.
    @Test func largeBodiesBothWays() async throws {
        let answer = 300_000, body = 4_000_000
        let server = try ScriptedServer(.init(body: String(repeating: "x", count: answer)))
        defer { server.shutdown() }
        var plan = try plan(server, .openLoop(rate: 20), duration: 1, connections: 2)
        plan.requests = [RequestTemplate(method: "POST", path: "/", body: Array(repeating: UInt8(ascii: "y"), count: body))]
        let result = try await LoadRun(plan: plan).run()
        #expect(result.total.requests == 20)
        #expect(result.total.errorCount == 0)
        #expect(server.bodyBytes == 20 * body)
        #expect(result.total.bytesReceived > 20 * answer && result.total.bytesReceived < 20 * (answer + 200))
        #expect(result.total.bytesSent > 20 * body)
    }

    /// Ctrl-C: the run ends within the second given to requests in flight, and the requests
    /// planned after the stop are not "never sent".
    @Test func stoppingEarlyReportsWhatRan() async throws {
        let server = try ScriptedServer()
        defer { server.shutdown() }
        let run = try LoadRun(plan: plan(server, .openLoop(rate: 1000), duration: 30))
        Task {
            try await Task.sleep(nanoseconds: 500_000_000)
            run.stop()
        }
        let started = uptimeNow()
        let result = try await run.run()
        #expect(Double(uptimeNow() - started) / 1e9 < 2)
        #expect(result.stoppedEarly)
        #expect(result.unsent == 0)
        #expect((400...600).contains(result.total.requests), "\(result.total.requests) requests")
        #expect(result.total.requests == server.count)
        #expect(result.rateHeld)
    }

    @Test func refusedConnectionsAreConnectErrors() async throws {
        let server = try ScriptedServer()
        let url = server.url
        server.shutdown()
        let (target, _) = try LoadTarget.parse(url: url)
        var plan = LoadPlan(target: target, requests: [RequestTemplate()], mode: .openLoop(rate: 50))
        plan.duration = 0.5
        let result = try await LoadRun(plan: plan).run()
        #expect(result.total.requests == 25)
        #expect(result.total.errors[.connect] == 25)
    }

    @Test func stagesWarmupAndMaxRequests() async throws {
        let server = try ScriptedServer()
        defer { server.shutdown() }
        var ramp = try plan(server, .openLoop(rate: 100), duration: 0)
        ramp.warmup = 0.5  // 50 requests at 100/s, not measured
        ramp.stages = [LoadStage(duration: 1, target: 200), LoadStage(duration: 0.5, target: 200)]
        let ramped = try await LoadRun(plan: ramp).run()
        #expect(ramped.total.requests == 250)  // 150 in the ramp from 100 to 200/s, 100 at 200/s for 0.5 s
        #expect(server.count == 300)
        #expect(abs(ramped.targetRate! - 250 / 1.5) < 1e-6)

        var capped = try plan(server, .openLoop(rate: 500), duration: 5)
        capped.maxRequests = 37
        let limited = try await LoadRun(plan: capped).run()
        #expect(limited.total.requests == 37)
        #expect(limited.duration < 0.2)
    }

    @Test func weightedScenarioWithDataRows() async throws {
        let server = try ScriptedServer()
        defer { server.shutdown() }
        let folder = "/tmp/kiln-load-scenario-\(getpid())"
        try FileIO.makeDirectory(folder)
        try FileIO.write(Array("id,name\n7,ann\n8,bob\n".utf8), to: folder + "/rows.csv")
        try FileIO.write(Array("""
            url: \(server.url)
            rate: 400
            duration: 500ms
            connections: 2
            data: rows.csv
            requests:
              - name: item
                path: /items/${id}
                weight: 3
              - name: search
                method: post
                path: /search?q=${name}
                headers: {Content-Type: application/json}
                body: '{"name": "${name}"}'
            """.utf8), to: folder + "/scenario.yaml")
        let scenario = try LoadScenario.load(path: folder + "/scenario.yaml")
        let (target, _) = try LoadTarget.parse(url: scenario.url!)
        var plan = LoadPlan(target: target, requests: scenario.requests, mode: .openLoop(rate: scenario.rate!))
        plan.duration = scenario.duration!
        plan.connections = scenario.connections!
        plan.data = scenario.data
        let result = try await LoadRun(plan: plan).run()
        #expect(result.names == ["item", "search"])
        #expect(result.byName.map(\.requests) == [150, 50])
        let paths = Set(server.receivedPaths)
        #expect(paths == ["/items/7", "/items/8", "/search?q=ann", "/search?q=bob"])

        try FileIO.write(Array("url: \(server.url)\nrate: 1\nrequests:\n  - path: /\n    wieght: 2\n".utf8), to: folder + "/bad.yaml")
        #expect(throws: KilnError.self) { try LoadScenario.load(path: folder + "/bad.yaml") }
    }

    @Test func thresholdsJudgeARun() async throws {
        let server = try ScriptedServer(.init(failEvery: 4))
        defer { server.shutdown() }
        let result = try await LoadRun(plan: plan(server, .openLoop(rate: 100), duration: 0.4)).run()
        #expect(result.total.requests == 40)
        #expect(try LoadThreshold("errors<=10").holds(for: result))
        #expect(try !LoadThreshold("errors<25%").holds(for: result))
        #expect(try LoadThreshold("errors<=25%").holds(for: result))
        #expect(try LoadThreshold("p99<1s").holds(for: result))
        #expect(try !LoadThreshold("p50<1us").holds(for: result))
        #expect(try LoadThreshold("rate>=95").holds(for: result))
        let json = result.json
        #expect(json["requests"]?.intValue == 40)
        #expect(json["errors_by_kind"]?["status_5xx"]?.intValue == 10)
        #expect(json["latency_ms"]?["p99"]?.doubleValue != nil)
        #expect(result.csv.split(separator: "\n").count == 3)
    }
}

#if canImport(Glibc)
import Glibc
#endif
