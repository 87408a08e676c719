import KilnCore
import Testing

@testable import KilnServe

#if canImport(Glibc)
import Glibc
#endif

@Suite struct ModelConfigTests {
    @Test func theDefaultServesTheLatestVersion() throws {
        #expect(ModelConfig().selected([3, 1, 2]) == [3])
        let config = try ModelConfig(json: #"{"model_version_policy": {"latest": {"num_versions": 2}}, "version_labels": {"stable": 1, "canary": 3}}"#)
        #expect(config.selected([1, 2, 3]) == [2, 3])
        #expect(config.versionLabels == ["stable": 1, "canary": 3])
        #expect(try ModelConfig(json: #"{"model_version_policy": {"specific": {"versions": [1, 3]}}}"#).selected([1, 2, 3, 4]) == [1, 3])
        #expect(try ModelConfig(json: #"{"model_version_policy": {"all": {}}}"#).selected([2, 1]) == [1, 2])
    }

    @Test func errorsNameTheField() {
        func message(_ json: String) -> String {
            do { _ = try ModelConfig(json: json) } catch let error as KilnError { return error.message } catch { return "\(error)" }
            return "no error"
        }
        #expect(message(#"{"version_policy": {}}"#) == "config: unknown field 'version_policy'")
        #expect(message(#"{"model_version_policy": {"latest": {}, "all": {}}}"#).contains("exactly one of latest, specific, all"))
        #expect(message(#"{"model_version_policy": {"latest": {"num_versions": 0}}}"#).hasPrefix("config.model_version_policy.latest.num_versions: must be at least 1"))
        #expect(message(#"{"model_version_policy": {"specific": {"versions": [1.5]}}}"#).hasPrefix("config.model_version_policy.specific.versions:"))
        #expect(message(#"{"version_labels": {"stable": "one"}}"#).hasPrefix("config.version_labels.stable: expected an integer"))
    }
}

@Suite struct ModelRepositoryTests {
    func available(_ repository: ModelRepository, _ name: String) -> [Int] {
        repository.available[name]?.map(\.version) ?? []
    }

    @Test func beforeTheFirstScanRequestsAreToldToRetry() throws {
        let folder = ModelFolder()
        defer { folder.remove() }
        try folder.addVersion("tiny", 1)
        let repository = try ModelRepository(directory: folder.path)
        #expect(throws: ServeError.self) { try repository.model("tiny") }
        #expect(repository.readiness.ready == false)
        repository.scan()
        #expect(try repository.model("tiny").version == 1)
        #expect(repository.readiness.ready)
    }

    @Test func aNewVersionReplacesTheOldOnceItIsAvailable() async throws {
        let folder = ModelFolder()
        defer { folder.remove() }
        try folder.addVersion("tiny", 1)
        try folder.addVersion("tiny", 2)
        let repository = try ModelRepository(directory: folder.path)
        #expect(repository.scan().map(\.isFailure) == [false])
        #expect(available(repository, "tiny") == [2])
        let inFlight = try repository.model("tiny")
        try folder.addVersion("tiny", 3)
        let events = repository.scan()
        #expect(events.count == 2 && events[1] == .unloaded(model: "tiny", version: 2))
        guard case .loaded(model: "tiny", version: 3, _) = events[0] else { Issue.record("\(events)"); return }
        #expect(available(repository, "tiny") == [3])
        #expect(repository.scan().isEmpty)
        // A request that took version 2 before the swap still runs on it.
        #expect(inFlight.version == 2)
        #expect(try await inFlight.infer(["image": try Tensor(zeros: [1, 3, 16, 16])])["softmax44"]?.shape == [1, 4])
        #expect(try repository.versions("tiny").map(\.version) == [3, 2])
    }

    @Test func aVersionThatFailsIsReportedAndTheOldOneKeepsServing() throws {
        let folder = ModelFolder()
        defer { folder.remove() }
        try folder.addVersion("tiny", 1)
        let repository = try ModelRepository(directory: folder.path)
        repository.scan()
        try folder.addVersion("tiny", 2, bytes: Array("not a model".utf8))
        let events = repository.scan()
        #expect(events.count == 1 && events[0].isFailure && events[0].description.hasPrefix("failed to load tiny version 2:"))
        #expect(available(repository, "tiny") == [1])
        #expect(try repository.model("tiny").version == 1)
        #expect(throws: ServeError.self) { try repository.model("tiny", version: 2) }
        guard case .failed(let message, _) = try repository.versions("tiny")[0].state else { Issue.record("not failed"); return }
        #expect(message.contains("not a valid ONNX model"))
        // Not retried until the file changes or a forced scan.
        #expect(repository.scan().isEmpty)
        #expect(repository.scan(force: true).count == 1)
        #expect(repository.loadFigures.failures["tiny"] == 2)
        try folder.addVersion("tiny", 2)
        let fixed = repository.scan()
        #expect(fixed.count == 2 && fixed[1] == .unloaded(model: "tiny", version: 1))
        #expect(available(repository, "tiny") == [2])
    }

    @Test func policiesAndLabelsChooseVersions() throws {
        let folder = ModelFolder()
        defer { folder.remove() }
        for version in 1...3 { try folder.addVersion("tiny", version) }
        try folder.write(#"{"model_version_policy": {"specific": {"versions": [1, 3]}}, "version_labels": {"stable": 1, "canary": 3}}"#, to: "tiny/config.json")
        let repository = try ModelRepository(directory: folder.path)
        repository.scan()
        #expect(available(repository, "tiny") == [1, 3])
        #expect(try repository.model("tiny", label: "stable").version == 1)
        #expect(try repository.model("tiny", label: "canary").version == 3)
        #expect(try repository.model("tiny").version == 3)
        #expect(throws: KilnError.self) { try repository.model("tiny", label: "beta") }
        #expect(throws: KilnError.self) { try repository.model("tiny", version: 2) }
        // A broken config is reported; the last good one stays.
        try folder.write(#"{"model_version_policy": {"newest": {}}}"#, to: "tiny/config.json")
        let events = repository.scan()
        #expect(events.count == 1 && events[0].isFailure && events[0].description.contains("keeping the previous policy"))
        #expect(available(repository, "tiny") == [1, 3])
        // Without a config the default policy serves the newest version only.
        unlink("\(folder.path)/tiny/config.json")
        #expect(repository.scan() == [.unloaded(model: "tiny", version: 1)])
        #expect(available(repository, "tiny") == [3])
    }

    @Test func unloadHoldsUntilAForcedScanAndRemovedFoldersRetire() throws {
        let folder = ModelFolder()
        defer { folder.remove() }
        try folder.addVersion("tiny", 1)
        try folder.addVersion("other", 1)
        let repository = try ModelRepository(directory: folder.path)
        repository.scan()
        try repository.unload("tiny", version: 1)
        #expect(available(repository, "tiny") == [])
        #expect(throws: KilnError.self) { try repository.unload("tiny", version: 1) }
        #expect(repository.scan().isEmpty)
        #expect(repository.readiness.problems == ["model 'tiny' has no version in service"])
        #expect(repository.scan(force: true).count == 1)
        #expect(available(repository, "tiny") == [1])
        folder.removeModel("other")
        #expect(repository.scan() == [.unloaded(model: "other", version: 1)])
        #expect(throws: KilnError.self) { try repository.model("other") }
    }
}
