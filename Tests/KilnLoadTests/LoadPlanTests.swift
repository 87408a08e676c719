import KilnCore
import Testing
@testable import KilnLoad

@Suite struct LoadPlanTests {
    @Test func constantRateIntendsRequestsAtExactIntervals() {
        let schedule = LoadSchedule(level: 200, warmup: 0, duration: 5, stages: [])
        var cursor = 0
        var times: [Double] = []
        var index = 0
        while let time = schedule.intendedTime(of: index, cursor: &cursor) {
            times.append(time)
            index += 1
        }
        #expect(times.count == 1000)
        #expect(times.enumerated().allSatisfy { abs($1 - Double($0) / 200) < 1e-9 })
    }

    @Test func rampsIntegrateTheRate() {
        // 0 -> 100/s over 10 s (500 requests), then 100/s for 5 s (500), then 100 -> 0 over 2 s (100).
        let stages = [LoadStage(duration: 10, target: 100), LoadStage(duration: 5, target: 100), LoadStage(duration: 2, target: 0)]
        let schedule = LoadSchedule(level: 0, warmup: 0, duration: 0, stages: stages)
        var cursor = 0
        var times: [Double] = []
        while let time = schedule.intendedTime(of: times.count, cursor: &cursor) { times.append(time) }
        #expect(times.count == 1100)
        #expect(zip(times, times.dropFirst()).allSatisfy { $0 <= $1 })
        // Request k of the first ramp is at sqrt(2k / slope), slope = 10/s^2.
        #expect(abs(times[250] - (2.0 * 250 / 10).squareRoot()) < 1e-9)
        for time in [0.5, 3.0, 10.0, 12.5, 16.0] {
            #expect(schedule.requests(before: time) == times.filter { $0 < time }.count, "at \(time) s")
        }
    }

    @Test func durationsAndStagesParse() throws {
        #expect(try LoadDuration.parse("250ms") == 0.25)
        #expect(try LoadDuration.parse("2m") == 120)
        #expect(try LoadDuration.parse("1.5") == 1.5)
        #expect(abs(try LoadDuration.parse("100us") - 1e-4) < 1e-15)
        #expect(throws: KilnError.self) { try LoadDuration.parse("soon") }
        #expect(try LoadStage.parseList("10s:100,500ms:0") == [LoadStage(duration: 10, target: 100), LoadStage(duration: 0.5, target: 0)])
        #expect(throws: KilnError.self) { try LoadStage.parseList("10s") }
    }

    @Test func urlsSplitIntoOriginAndPath() throws {
        let (target, path) = try LoadTarget.parse(url: "http://127.0.0.1:8501/v1/models/m:predict?x=1")
        #expect(target == LoadTarget(host: "127.0.0.1", port: 8501))
        #expect(path == "/v1/models/m:predict?x=1")
        #expect(try LoadTarget.parse(url: "http://[::1]:9000").target == LoadTarget(host: "::1", port: 9000))
        #expect(try LoadTarget.parse(url: "http://localhost").path == "/")
        #expect(throws: KilnError.self) { try LoadTarget.parse(url: "https://example.com/") }
        #expect(throws: KilnError.self) { try LoadTarget.parse(url: "http://host:99999/") }
        #expect(throws: KilnError.self) { try LoadTarget.parse(url: "ftp://host/") }
    }

    @Test func weightsGiveExactProportionsAndPlaceholdersFill() throws {
        let target = LoadTarget(host: "127.0.0.1", port: 80)
        var plan = LoadPlan(target: target, requests: [
            RequestTemplate(name: "a", path: "/a/${id}", weight: 3),
            RequestTemplate(name: "b", method: "POST", path: "/b", headers: [("X-Name", "${name}")], body: Array("{\"id\": ${id}}".utf8)),
        ], mode: .openLoop(rate: 1))
        plan.data = try RequestData(columns: ["id", "name"], rows: [["1", "ann"], ["2", "bo b"]])
        let encoded = EncodedRequests(plan: try plan.validated())
        #expect((0..<400).filter { encoded.template($0) == 0 }.count == 300)
        // Each request name walks the data rows in order.
        let bRequests = (0..<8).filter { encoded.template($0) == 1 }
        let aRequests = (0..<8).filter { encoded.template($0) == 0 }
        let aPaths = aRequests.map { String(decoding: encoded.buffer(template: 0, index: $0).readableBytesView, as: UTF8.self).prefix(10) }
        #expect(aPaths == ["GET /a/1 H", "GET /a/2 H", "GET /a/1 H", "GET /a/2 H", "GET /a/1 H", "GET /a/2 H"])
        let second = String(decoding: encoded.buffer(template: 1, index: bRequests[1]).readableBytesView, as: UTF8.self)
        #expect(second == "POST /b HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Name: bo b\r\nUser-Agent: kiln-load/\(KilnVersion.string)\r\nContent-Length: 9\r\n\r\n{\"id\": 2}")
        plan.data = nil
        #expect(throws: KilnError.self) { try plan.validated() }  // ${id} without a data file
    }

    @Test func thresholdsParse() throws {
        let p99 = try LoadThreshold("p99<50ms")
        #expect(p99.metric == "p99" && p99.comparison == .less && p99.limit == 50)
        #expect(try LoadThreshold("max <= 1s").limit == 1000)
        #expect(try LoadThreshold("p50<2").limit == 2)
        let errors = try LoadThreshold("errors<0.1%")
        #expect(errors.isErrorFraction && abs(errors.limit - 0.001) < 1e-12)
        #expect(try LoadThreshold("rate>=900").comparison == .greaterOrEqual)
        #expect(throws: KilnError.self) { try LoadThreshold("p99 50ms") }
        #expect(throws: KilnError.self) { try LoadThreshold("speed>1") }
    }
}
