import KilnCore
import KilnTabular
import Testing

@testable import KilnTransform

/// `analyzeAndApply` transforms batches it keeps in memory with the ids their analysis gave
/// their values (`ValueIDs`); these tests hold it to `analyze` followed by `apply`.
@Suite struct ValueIDsTests {
    private static let spec = """
        {"features": [
          {"output": "cp_id", "op": "compute_and_apply_vocabulary", "input": "chest pain", "top_k": 3, "num_oov_buckets": 2},
          {"output": "cp_onehot", "op": "one_hot", "input": "chest pain"},
          {"output": "cp_hash", "op": "hash_strings", "input": "chest pain", "hash_buckets": 7},
          {"output": "cp_known", "op": "apply_vocabulary", "input": "chest pain", "vocabulary": ["typical", "rare"], "default_value": -5},
          {"output": "words", "op": "tfidf", "input": "comment", "vocab_size": 40},
          {"output": "pairs", "op": "ngrams", "input": "comment", "vocab_size": 60},
          {"output": "sex_hash", "op": "hash_strings", "input": "sex", "hash_buckets": 5},
          {"output": "sex_id", "op": "compute_and_apply_vocabulary", "input": "sex"},
          {"output": "sex_age", "op": "scale_to_z_score_per_key", "input": "age", "key": "sex"}
        ]}
        """

    /// Rows with missing categories and comments, and words in mixed case.
    private static func rows(_ count: Int, seed: UInt64 = 3) -> String {
        var text = "age,chest pain,comment,sex\n"
        var random = Philox(seed: seed).stream(0)
        for index in 0..<count {
            let pain = index % 17 == 0 ? "" : ["typical", "atypical", "non-anginal", "asymptomatic", "rare"][Int(random.next() % 5)]
            let words = (0..<Int(random.next() % 6)).map { _ in "W\(random.next() % 90)" }.joined(separator: " ")
            let comment = index % 11 == 0 ? "" : "\"\(words), Other\""
            text += "\(20 + random.next() % 60),\(pain),\(comment),\(index % 3 == 0 ? "F" : "M")\n"
        }
        return text
    }

    private static func reader(_ text: String, _ options: CSVOptions) throws -> CSVReader {
        try CSVReader(bytes: Array(text.utf8), options: options)
    }

    private static func options(blockBytes: Int, threads: Int) -> CSVOptions {
        var options = CSVOptions()
        options.blockBytes = blockBytes
        options.threads = threads
        return options
    }

    /// `analyzeAndApply`'s graph, outputs and how often it opened the data, beside `analyze`
    /// then `apply`'s graph and outputs.
    private static func compare(_ specText: String, _ text: String, blockBytes: Int, threads: Int) throws
        -> (fused: (graph: String, outputs: [TransformedTable], opened: Int), separate: (graph: String, outputs: [TransformedTable]))
    {
        let spec = try TransformSpec(jsonText: specText)
        let options = options(blockBytes: blockBytes, threads: threads)
        var analysis = TransformAnalysis(spec: spec)
        try analysis.add(reader: try reader(text, options))
        let graph = try analysis.finish()
        var expected: [TransformedTable] = []
        try graph.apply(reader: try reader(text, options)) { expected.append($0) }
        var outputs: [TransformedTable] = []
        var opened = 0
        let fused = try TransformGraph.analyzeAndApply(spec: spec, options: options, cacheBytes: 1 << 30, report: nil, { outputs.append($0) }) {
            opened += 1
            return try reader(text, $0)
        }
        return ((fused.json.text, outputs, opened), (graph.json.text, expected))
    }

    @Test func keptIDsGiveWhatLookingValuesUpGives() throws {
        let text = Self.rows(6_000)
        for threads in [1, 2] {
            let (fused, separate) = try Self.compare(Self.spec, text, blockBytes: 4096, threads: threads)
            #expect(fused.opened == 1)
            #expect(fused.graph == separate.graph)
            #expect(fused.outputs == separate.outputs)
            #expect(fused.outputs.count > 20)
        }
        // Every column the spec reads is served by kept ids, so the cache keeps no column.
        let vocabularyOnly = #"{"features": [{"output": "id", "op": "compute_and_apply_vocabulary", "input": "chest pain"}]}"#
        let (fused, separate) = try Self.compare(vocabularyOnly, text, blockBytes: 4096, threads: 2)
        #expect(fused.opened == 1 && fused.outputs == separate.outputs)
        #expect(fused.outputs.reduce(0) { $0 + $1.rowCount } == 6_000)
    }

    @Test func onlyColumnsEveryReaderOfWhichKeptIDsServeAreLeftOut() throws {
        let spec = try TransformSpec(jsonText: Self.spec)
        let batch = try Self.reader(Self.rows(500), Self.options(blockBytes: 1 << 20, threads: 1)).readAll()
        var partial = TransformAnalysis(spec: spec, keepingValueIDs: true)
        try partial.add(batch)
        let valueIDs = partial.analyzers.map(\.valueIDs)
        // Vocabularies of string columns and text keep ids; the per-key scaler does not.
        #expect(valueIDs.map { $0 != nil } == [true, true, false, false, true, true, false, true, false])
        #expect(valueIDs[0]!.ids.count == 500 && valueIDs[0]!.rowStarts.isEmpty)
        #expect(valueIDs[4]!.rowStarts.count == 501)
        // "sex" is also the per-key scaler's key, so it stays.
        #expect(spec.columnsServed(by: valueIDs, in: batch) == ["chest pain", "comment"])
        #expect(spec.columnsServed(by: valueIDs.map { _ in nil }, in: batch).isEmpty)
    }

    @Test func aBatchWithMoreDistinctValuesThanIDsFitIsLookedUp() throws {
        // 70,000 distinct categories and terms in one batch: more than 16-bit ids hold.
        var text = "age,chest pain,comment,sex\n"
        for index in 0..<70_000 { text += "\(index % 90),c\(index),t\(index) t\(index % 7),\(index % 2 == 0 ? "F" : "M")\n" }
        let (fused, separate) = try Self.compare(Self.spec, text, blockBytes: 4 << 20, threads: 1)
        #expect(fused.opened == 1)
        #expect(fused.outputs == separate.outputs)
        let spec = try TransformSpec(jsonText: Self.spec)
        var partial = TransformAnalysis(spec: spec, keepingValueIDs: true)
        try partial.add(try Self.reader(text, Self.options(blockBytes: 4 << 20, threads: 1)).readAll())
        #expect(partial.analyzers[0].valueIDs == nil && partial.analyzers[4].valueIDs == nil)
        #expect(partial.analyzers[7].valueIDs != nil)
    }

    @Test func aVocabularyPastItsSketchCapacityReadsTheDataAgain() throws {
        // More distinct values than a frequency sketch keeps exactly: the merged ids are no
        // longer valid, and batches lacking the column are read again.
        let spec = #"{"features": [{"output": "id", "op": "compute_and_apply_vocabulary", "input": "v", "top_k": 5}]}"#
        var text = "v\n"
        text.reserveCapacity(5_000_000)
        for index in 0..<((1 << 19) + 20_000) { text += "v\(index % 50 == 0 ? 0 : index)\n" }
        let (fused, separate) = try Self.compare(spec, text, blockBytes: 1 << 18, threads: 2)
        #expect(fused.opened == 2)
        #expect(fused.outputs == separate.outputs)
    }
}
