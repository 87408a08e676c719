import KilnCore
import NIOConcurrencyHelpers
import Testing

@testable import KilnServe

/// Every route of `kiln serve`, in process, against what the library computes.
@Suite struct RouteTests {
    /// A repository with `tiny` versions 1 and 2 (labels stable/canary) and `slow` (batching
    /// that waits 2 s for company).
    func withServer(adminToken: String? = nil, requestTimeout: Double = 30, scan: Bool = true,
                    _ body: (InProcessServer, ModelFolder) async throws -> Void) async throws {
        let folder = ModelFolder()
        defer { folder.remove() }
        try folder.addVersion("tiny", 1)
        try folder.addVersion("tiny", 2)
        try folder.write(#"{"model_version_policy": {"all": {}}, "version_labels": {"stable": 1, "canary": 2}}"#, to: "tiny/config.json")
        try folder.addVersion("slow", 1, config: #"{"max_batch_size": 4, "batch_timeout_micros": 2000000}"#)
        let server = try InProcessServer(folder, adminToken: adminToken, requestTimeout: requestTimeout)
        if scan { _ = try await server.loader.scan() }
        try await body(server, folder)
        try await server.loader.shutdown()
    }

    @Test func healthAndLoading() async throws {
        try await withServer(scan: false) { server, _ in
            #expect(try await server.call(.get, "/v1/health/live").status == 200)
            let loading = try await server.call(.get, "/v1/health/ready")
            #expect(loading.status == 503 && loading.json["problems"]?.arrayValue?.first?.stringValue == "loading models")
            #expect(try await server.post("/v1/models/tiny:predict", json: #"{"instances": [\#(tinyInstance)]}"#).status == 503)
            _ = try await server.loader.scan()
            let ready = try await server.call(.get, "/v1/health/ready")
            #expect(ready.status == 200 && ready.json["models"]?.arrayValue?.compactMap(\.stringValue) == ["slow", "tiny"])
        }
    }

    @Test func statusMetadataByVersionAndLabel() async throws {
        try await withServer { server, _ in
            let all = try await server.call(.get, "/v1/models/tiny")
            #expect(all.json["model_version_status"]?.arrayValue?.compactMap { $0["version"]?.stringValue } == ["2", "1"])
            #expect(all.json["model_version_status"]?.arrayValue?.compactMap { $0["state"]?.stringValue } == ["AVAILABLE", "AVAILABLE"])
            let stable = try await server.call(.get, "/v1/models/tiny/labels/stable")
            #expect(stable.json["model_version_status"]?.arrayValue?.compactMap { $0["version"]?.stringValue } == ["1"])
            #expect(try await server.call(.get, "/v1/models/tiny/versions/2").status == 200)
            let metadata = try await server.call(.get, "/v1/models/tiny/labels/canary/metadata")
            #expect(metadata.json["model_spec"]?["version"]?.stringValue == "2")
            let signature = metadata.json["metadata"]?["signature_def"]?["signature_def"]?["serving_default"]
            #expect(signature?["inputs"]?["image"]?["dtype"]?.stringValue == "DT_FLOAT")
            for path in ["/v1/models/nope", "/v1/models/tiny/versions/7", "/v1/models/tiny/labels/beta", "/v1/nothing"] {
                let reply = try await server.call(.get, path)
                #expect(reply.status == 404 && reply.json["error"]?.stringValue != nil, "\(path) \(reply.text)")
            }
        }
    }

    @Test func predictInRowColumnarAndBinaryFormAgrees() async throws {
        try await withServer { server, _ in
            let expected = try await server.repository.model("tiny").infer(["image": try Tensor(zeros: [2, 3, 16, 16])])["softmax44"]!
            let rows = try await server.post("/v1/models/tiny:predict", json: #"{"instances": [\#(tinyInstance), \#(tinyInstance)]}"#)
            #expect(rows.status == 200 && rows.headers[KilnServer.versionHeader] == "2" && rows.headers[KilnServer.instancesHeader] == "2")
            let first = rows.json["predictions"]?.arrayValue?[0].arrayValue?.compactMap(\.doubleValue) ?? []
            let values = try expected.scalars(as: Float.self)
            #expect(first.count == 4 && zip(first, values).allSatisfy { abs($0 - Double($1)) < 1e-6 })
            let columns = try await server.post("/v1/models/tiny/labels/stable:predict", json: #"{"inputs": [\#(tinyInstance)]}"#)
            #expect(columns.status == 200 && columns.headers[KilnServer.versionHeader] == "1" && columns.json["outputs"]?.arrayValue?.count == 1)
            let zeros = [UInt8](repeating: 0, count: 2 * 3 * 16 * 16 * 4)
            let binary = try await server.call(.post, "/v1/models/tiny/versions/1:predict", body: zeros,
                                               headers: ["Content-Type": "application/octet-stream", "Kiln-Shape": "2, 3, 16, 16"])
            #expect(binary.status == 200 && binary.json["predictions"] == rows.json["predictions"])
        }
    }

    @Test func badRequestsGetTheRightStatus() async throws {
        try await withServer { server, _ in
            func status(_ path: String, _ body: String, _ type: String = "application/json", _ headers: [String: String] = [:]) async throws -> (Int, String) {
                let reply = try await server.call(.post, path, body: Array(body.utf8), headers: ["Content-Type": type].merging(headers) { $1 })
                return (reply.status, reply.json["error"]?.stringValue ?? "")
            }
            #expect(try await status("/v1/models/tiny:predict", "{\"instances\": [1,") .0 == 400)
            #expect(try await status("/v1/models/tiny:predict", "{\"instances\": [[1, 2]]}").1.contains("expected shape [N, 3, 16, 16]"))
            #expect(try await status("/v1/models/tiny:predict", "x", "application/xml").0 == 415)
            #expect(try await status("/v1/models/tiny:explain", "{}").0 == 404)
            #expect(try await status("/v1/models/tiny:classify", "{\"instances\": [\(tinyInstance)]}").1.contains("no labels.txt"))
            let binary = try await status("/v1/models/tiny:predict", "1234", "application/octet-stream", ["Kiln-Shape": "1,3,16,16"])
            #expect(binary.0 == 400 && binary.1 == "input 'image': shape [1,3,16,16] of float32 needs 3072 bytes, the body has 4")
            #expect(try await status("/v1/models/tiny:predict", "1234", "application/octet-stream").1.contains("Kiln-Shape"))
            #expect(try await status("/v1/models/tiny:predict", "1234", "application/octet-stream", ["Kiln-Shape": "1,x"]).0 == 400)
            #expect(try await status("/v1/models/tiny:predict", "", "application/octet-stream", ["Kiln-Shape": "0,3,16,16"]).1.contains("positive"))
            let huge = try await server.call(.post, "/v1/models/tiny:predict", body: [UInt8](repeating: 32, count: (1 << 20) + 1),
                                             headers: ["Content-Type": "application/json"])
            #expect(huge.status == 413)
            #expect(try await server.call(.get, "/v1/health/live").status == 200)
        }
    }

    @Test func aRequestThatTakesTooLongGets504() async throws {
        try await withServer(requestTimeout: 0.3) { server, _ in
            let reply = try await server.post("/v1/models/slow:predict", json: #"{"instances": [\#(tinyInstance)]}"#)
            #expect(reply.status == 504 && reply.json["error"]?.stringValue?.contains("request timeout") == true)
        }
    }

    @Test func adminEndpointsNeedTheToken() async throws {
        try await withServer { server, _ in
            let reply = try await server.call(.post, "/v1/admin/reload")
            #expect(reply.status == 403)
        }
        try await withServer(adminToken: "s3cret") { server, folder in
            #expect(try await server.call(.post, "/v1/admin/reload").status == 401)
            #expect(try await server.call(.post, "/v1/admin/reload", headers: ["Authorization": "Bearer s3cre"]).status == 401)
            try folder.addVersion("tiny", 3)
            let reload = try await server.call(.post, "/v1/admin/reload", headers: ["Authorization": "Bearer s3cret"])
            #expect(reload.status == 200 && reload.json["events"]?.arrayValue?.first?.stringValue?.hasPrefix("loaded tiny version 3") == true)
            #expect(reload.json["failures"]?.intValue == 0)
            let unload = try await server.call(.post, "/v1/admin/models/tiny/versions/3:unload", headers: ["Authorization": "Bearer s3cret"])
            #expect(unload.status == 200)
            #expect(try await server.post("/v1/models/tiny:predict", json: #"{"instances": [\#(tinyInstance)]}"#).headers[KilnServer.versionHeader] == "2")
            #expect(try await server.call(.post, "/v1/admin/models/tiny/versions/3:unload", headers: ["Authorization": "Bearer s3cret"]).status == 404)
            #expect(try await server.call(.post, "/v1/admin/other", headers: ["Authorization": "Bearer s3cret"]).status == 404)
        }
    }

    @Test func versionsSwapUnderConcurrentRequestsWithoutAFailure() async throws {
        try await withServer { server, folder in
            let statuses = NIOLockedValueBox<[Int: Int]>([:])
            let versions = NIOLockedValueBox<Set<String>>([])
            let stop = NIOLockedValueBox(false)
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<4 {
                    group.addTask {
                        while !stop.withLockedValue({ $0 }) {
                            let reply = try await server.post("/v1/models/tiny:predict", json: #"{"instances": [\#(tinyInstance)]}"#)
                            statuses.withLockedValue { $0[reply.status, default: 0] += 1 }
                            if let version = reply.headers[KilnServer.versionHeader] { versions.withLockedValue { _ = $0.insert(version) } }
                        }
                    }
                }
                for version in 3...5 {
                    try await Task.sleep(nanoseconds: 50_000_000)
                    try folder.addVersion("tiny", version)
                    _ = try await server.loader.scan()
                }
                try await Task.sleep(nanoseconds: 50_000_000)
                stop.withLockedValue { $0 = true }
                try await group.waitForAll()
            }
            #expect(statuses.withLockedValue { $0 }.keys.sorted() == [200])
            #expect(versions.withLockedValue { $0 }.isSuperset(of: ["2", "5"]))
        }
    }

    @Test func metricsCountRequestsAndModels() async throws {
        try await withServer { server, _ in
            _ = try await server.post("/v1/models/tiny:predict", json: #"{"instances": [\#(tinyInstance)]}"#)
            _ = try await server.call(.get, "/v1/models/nope")
            let text = try await server.call(.get, "/monitoring/prometheus/metrics").text
            #expect(text.contains(#"kiln_requests_total{model="tiny",version="2",status="200"} 1"#))
            #expect(text.contains(#"kiln_requests_total{model="",version="",status="404"} 1"#))
            #expect(text.contains(#"kiln_model_versions_available{model="tiny"} 2"#))
            #expect(text.contains(#"kiln_batch_queue_instances{model="slow",version="1"} 0"#))
            #expect(text.contains(#"kiln_model_load_seconds{model="tiny",version="1"}"#))
        }
    }
}
