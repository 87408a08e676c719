import KilnCore
import KilnTabular
import Testing

@testable import KilnTransform

private let csv = """
    age,max HR,chest pain,comment,sex
    63,150,typical,"Chest pain, at rest",M
    37,187,atypical,pain when running,F
    41,172,non-anginal,,F
    56,,typical,no pain at all,M
    57,163,asymptomatic,pain pain pain,F
    62,95,typical,rest helps,M
    """

private let specText = """
    {"features": [
      {"output": "age_z", "op": "scale_to_z_score", "input": "age"},
      {"output": "hr_01", "op": "scale_to_0_1", "input": "max HR"},
      {"output": "hr_bucket", "op": "bucketize", "input": "max HR", "num_buckets": 4},
      {"output": "cp_id", "op": "compute_and_apply_vocabulary", "input": "chest pain", "top_k": 3, "num_oov_buckets": 1},
      {"output": "words", "op": "tfidf", "input": "comment", "vocab_size": 1000},
      {"output": "hr_filled", "op": "impute", "input": "max HR", "strategy": "median"},
      {"output": "sex_age", "op": "scale_to_z_score_per_key", "input": "age", "key": "sex"}
    ]}
    """

private func table(_ text: String = csv, blockBytes: Int = 1 << 21, threads: Int = 0) throws -> CSVReader {
    var options = CSVOptions()
    options.blockBytes = blockBytes
    options.threads = threads
    return try CSVReader(bytes: Array(text.utf8), options: options)
}

private func analyze(_ text: String = csv) throws -> TransformGraph {
    var analysis = TransformAnalysis(spec: try TransformSpec(jsonText: specText))
    try analysis.add(reader: try table(text))
    return try analysis.finish()
}

@Suite struct TransformTests {
    @Test func computesConstantsLikeTwoPassFormulas() throws {
        let graph = try analyze()
        let ages = [63.0, 37, 41, 56, 57, 62]
        let mean = ages.reduce(0, +) / 6
        let std = (ages.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / 6).squareRoot()
        let result = try graph.apply(try table().readAll())
        guard case .single(let ageZ) = try result.output("age_z"), case .float(let z) = ageZ.values else {
            Issue.record("age_z is not a float column")
            return
        }
        for (value, age) in zip(z, ages) { #expect(abs(value - (age - mean) / std) < 1e-12) }
        guard case .single(let hr) = try result.output("hr_01"), case .float(let scaled) = hr.values else { Issue.record("unexpected output kind"); return }
        #expect(abs(scaled[0] - (150 - 95) / (187 - 95)) < 1e-15)
        #expect(!hr.isValid(3))
        // Boundaries from exact quantiles of [150, 187, 172, 163, 95] at 1/4, 2/4, 3/4.
        #expect(graph.features[2].constants.boundaries == [150, 163, 172])
        guard case .single(let buckets) = try result.output("hr_bucket") else { Issue.record("unexpected output kind"); return }
        #expect(buckets.values == .int([1, 3, 3, 0, 2, 0]) && !buckets.isValid(3))
        // Vocabulary by descending count, ties by bytes; OOV maps to index 3.
        #expect(graph.features[3].constants.vocabulary == ["typical", "asymptomatic", "atypical"])
        guard case .single(let ids) = try result.output("cp_id") else { Issue.record("unexpected output kind"); return }
        #expect(ids.values == .int([0, 2, 3, 0, 1, 0]))
        guard case .single(let filled) = try result.output("hr_filled") else { Issue.record("unexpected output kind"); return }
        #expect(filled.values == .float([150, 187, 172, 163, 163, 95]) && filled.missingCount == 0)
    }

    @Test func tfidfFollowsScikitLearnDefaults() throws {
        let graph = try analyze()
        let constants = graph.features[4].constants
        // Terms of two or more word characters, lowercased; "pain" is in 4 of 6 documents.
        #expect(constants.vocabulary.first == "pain" && constants.counts.first == 6)
        let pain = constants.vocabulary.firstIndex(of: "pain")!
        #expect(abs(constants.idf[pain] - (log(7.0 / 5.0) + 1)) < 1e-15)
        let result = try graph.apply(try table().readAll())
        guard case .multi(let words) = try result.output("words") else { Issue.record("unexpected output kind"); return }
        let row = words.dense(4)
        #expect(abs(row[pain] - 1) < 1e-15)
        #expect(words.dense(2).allSatisfy { $0 == 0 })
        let norms = (0..<6).map { words.dense($0).reduce(0) { $0 + $1 * $1 } }
        #expect(norms.enumerated().allSatisfy { $0.offset == 2 || abs($0.element - 1) < 1e-12 })
    }

    @Test func mergedPartialsEqualOnePassAndThreadsDoNotMatter() throws {
        let rows = generatedRows()
        let spec = try TransformSpec(jsonText: specText)
        var graphs: [String] = []
        for threads in [1, 2] {
            var analysis = TransformAnalysis(spec: spec)
            try analysis.add(reader: try table(rows, blockBytes: 8192, threads: threads))
            graphs.append(try analysis.finish().json.text)
        }
        #expect(graphs[0] == graphs[1])
        let lines = rows.split(separator: "\n", omittingEmptySubsequences: false)
        let header = String(lines[0])
        let firstHalf = ([header] + lines[1..<8000].map(String.init)).joined(separator: "\n")
        let secondHalf = ([header] + lines[8000...].map(String.init)).joined(separator: "\n")
        var left = TransformAnalysis(spec: spec)
        try left.add(reader: try table(firstHalf))
        var right = TransformAnalysis(spec: spec)
        try right.add(reader: try table(secondHalf))
        var merged = try TransformAnalysis(encoded: left.encoded())
        try merged.merge(try TransformAnalysis(encoded: right.encoded()))
        var whole = TransformAnalysis(spec: spec)
        try whole.add(reader: try table(rows))
        let a = try merged.finish()
        let b = try whole.finish()
        #expect(merged.rows == 20_000)
        for index in [0, 1, 5] {
            #expect(abs(a.features[index].constants.scale.mean - b.features[index].constants.scale.mean) < 1e-9)
            #expect(abs(a.features[index].constants.scale.std - b.features[index].constants.scale.std) < 1e-9)
        }
        #expect(a.features[2].constants.boundaries == b.features[2].constants.boundaries)
        #expect(a.features[3].constants.vocabulary == b.features[3].constants.vocabulary)
        #expect(a.features[4].constants.idf == b.features[4].constants.idf)
        #expect(a.features[6].constants.perKey.keys.sorted() == ["F", "M"])
        // A batch of partials with one misfit changes nothing.
        let other = try TransformSpec(jsonText: #"{"features": [{"output": "a", "op": "log1p", "input": "age"}]}"#)
        let before = merged.encoded()
        #expect(throws: KilnError.self) { try merged.merge([right, TransformAnalysis(spec: other)]) }
        #expect(merged.encoded() == before)
    }

    @Test func analyzeAndApplyEqualsAnalyzeThenApplyFromMemoryOrFromTheFile() throws {
        let rows = generatedRows()
        let spec = try TransformSpec(jsonText: specText)
        var analysis = TransformAnalysis(spec: spec)
        try analysis.add(reader: try table(rows, blockBytes: 8192))
        let graph = try analysis.finish()
        var expected: [TransformedTable] = []
        try graph.apply(reader: try table(rows, blockBytes: 8192)) { expected.append($0) }
        // A budget that holds every batch reads the data once; one that does not, twice.
        for (cacheBytes, threads) in [(1 << 30, 1), (1 << 30, 2), (100_000, 2), (0, 1)] {
            var options = CSVOptions()
            options.blockBytes = 8192
            options.threads = threads
            var outputs: [TransformedTable] = []
            var opened = 0
            let single = try TransformGraph.analyzeAndApply(
                spec: spec, options: options, cacheBytes: cacheBytes, report: nil, { outputs.append($0) }
            ) { options in
                opened += 1
                return try CSVReader(bytes: Array(rows.utf8), options: options)
            }
            #expect(single.json.text == graph.json.text)
            #expect(outputs == expected)
            #expect(opened == (cacheBytes == 1 << 30 ? 1 : 2))
        }
    }

    @Test func wordsAreSplitAndLoweredAsTheOptionsSay() {
        func terms(_ text: String, lowercase: Bool = true, ngrams: ClosedRange<Int> = 1...1) -> [String] {
            var options = TextOptions()
            options.lowercase = lowercase
            options.ngramRange = ngrams
            var scratch: [UInt8] = []
            var tokens: [Range<Int>] = []
            var found: [String] = []
            Array(text.utf8).withUnsafeBufferPointer { bytes in
                Tokenizer(options: options).forEachTerm(bytes, scratch: &scratch, tokens: &tokens) {
                    found.append(String(decoding: $0, as: UTF8.self))
                }
            }
            return found
        }
        let text = "Hello, wORLD a bc_9 -- x1 Zz"
        #expect(terms(text) == ["hello", "world", "bc_9", "x1", "zz"])
        #expect(terms(text, lowercase: false) == ["Hello", "wORLD", "bc_9", "x1", "Zz"])
        #expect(terms(text, ngrams: 1...2) == ["hello", "world", "bc_9", "x1", "zz", "hello world", "world bc_9", "bc_9 x1", "x1 zz"])
        #expect(terms("") == [] && terms("a b c") == [])
    }

    @Test func bucketsCountTheBoundariesAtOrBelowTheValue() {
        var random = Philox(seed: 11).stream(2)
        for count in Array(0...17) + [31, 32, 33, 100] {
            let boundaries = (0..<count).map { Double($0) * 2 + random.nextUnitDouble() }
            let probes = boundaries + boundaries.map { $0.nextDown } + boundaries.map { $0.nextUp }
                + (0..<50).map { _ in random.nextUnitDouble() * 210 - 2 } + [-.infinity, .infinity]
            for x in probes { #expect(bucket(of: x, boundaries) == boundaries.filter { $0 <= x }.count) }
        }
    }

    @Test func oneInstanceGivesTheSameRowAsTheBatch() throws {
        let graph = try analyze()
        let batch = try graph.apply(try table().readAll())
        let instance = try JSONValue.parse(#"{"age": 56, "max HR": null, "chest pain": "typical", "comment": "no pain at all", "sex": "M"}"#)
        #expect(try graph.apply(instance: instance) == batch.row(3))
        let unseen = try graph.apply(instance: try JSONValue.parse(#"{"age": 50.0, "chest pain": "unheard of", "comment": "x", "sex": "X"}"#))
        #expect(unseen["cp_id"] == .int(3))
        let wrong = #expect(throws: KilnError.self) { try graph.apply(instance: try JSONValue.parse(#"{"age": "old"}"#)) }
        #expect(wrong?.message == "instances[0].age: expected int, got a string \"old\"")
    }

    @Test func graphsRoundTripThroughJSON() throws {
        let graph = try analyze()
        let reloaded = try TransformGraph(jsonText: graph.json.text)
        #expect(reloaded.json == graph.json)
        let data = try table().readAll()
        #expect(try reloaded.apply(data) == graph.apply(data))
        let newer = graph.json.text.replacingOccurrences("kiln.transform_graph/1", "kiln.transform_graph/2")
        let error = #expect(throws: KilnError.self) { try TransformGraph(jsonText: newer) }
        #expect(error?.code == .unsupported)
    }

    @Test func badSpecsAndDataNameTheProblem() throws {
        func specError(_ text: String) -> String? {
            (#expect(throws: KilnError.self) { try TransformSpec(jsonText: text) })?.message
        }
        #expect(specError(#"{"features": [{"output": "a", "op": "scale", "input": "x"}]}"#)?.hasPrefix("features[0].op: unknown operation \"scale\"") == true)
        #expect(specError(#"{"features": [{"output": "a", "op": "bucketize", "input": "x"}]}"#) == "features[0].num_buckets: is required (an integer of at least 2)")
        #expect(specError(#"{"features": [{"output": "a", "op": "log1p", "input": "x", "bukets": 3}]}"#) == "features[0]: unknown field 'bukets'")
        #expect(specError(#"{"features": [{"output": "a", "op": "hash_strings", "input": "x", "hash_buckets": "8"}]}"#) == "features[0].hash_buckets: expected an integer, got \"8\"")
        #expect(specError(#"{"features": []}"#) == "a transform spec needs at least one feature")
        #expect(specError(#"{"features": [{"output": "a", "op": "log1p"}]}"#) == "features[0].input: is required (a column name; `inputs` for several)")

        let unknownColumn = try TransformSpec(jsonText: #"{"features": [{"output": "a", "op": "log1p", "input": "agee"}]}"#)
        var analysis = TransformAnalysis(spec: unknownColumn)
        let missing = #expect(throws: KilnError.self) { try analysis.add(try table().readAll()) }
        #expect(missing?.message == "feature 'a' (log1p) reads column 'agee', which the data does not have; available: 'age' (int), 'max HR' (int), 'chest pain' (string), 'comment' (string), 'sex' (string)")
        let wrongType = try TransformSpec(jsonText: #"{"features": [{"output": "a", "op": "scale_to_0_1", "input": "sex"}]}"#)
        analysis = TransformAnalysis(spec: wrongType)
        let mismatch = #expect(throws: KilnError.self) { try analysis.add(try table().readAll()) }
        #expect(mismatch?.code == .shapeMismatch)
        let allMissing = try TransformSpec(jsonText: #"{"features": [{"output": "a", "op": "scale_to_z_score", "input": "x"}]}"#)
        analysis = TransformAnalysis(spec: allMissing)
        try analysis.add(try CSVReader(bytes: Array("x,y\n,1\nNA,2\n".utf8), options: { var o = CSVOptions(); o.types = ["x": .float]; return o }()).readAll())
        let empty = #expect(throws: KilnError.self) { try analysis.finish() }
        #expect(empty?.message == "feature 'a' (scale_to_z_score): column 'x' has no values to analyze (all missing or not finite)")
    }

    @Test func principalComponentsDiagonaliseTheCovariance() throws {
        var text = "a,b,c\n"
        var random = Philox(seed: 9).stream(3)
        for _ in 0..<2000 {
            let t = random.nextNormal()
            text += "\(t * 3 + random.nextNormal() * 0.1),\(t * -2),\(random.nextNormal())\n"
        }
        let spec = try TransformSpec(jsonText: #"{"features": [{"output": "p", "op": "pca", "inputs": ["a", "b", "c"], "n_components": 2}]}"#)
        var analysis = TransformAnalysis(spec: spec)
        try analysis.add(reader: try table(text))
        let constants = try analysis.finish().features[0].constants
        let first = constants.components[0]
        let norm = first.reduce(0) { $0 + $1 * $1 }.squareRoot()
        #expect(abs(norm - 1) < 1e-12)
        #expect(first[0] > 0 && abs(first[0] / first[1] + 1.5) < 0.05 && abs(first[2]) < 0.05)
        #expect(constants.explainedVariance[0] > 12 && constants.explainedVariance[1] < 1.2)
    }
}

/// 20,000 rows of the test table's columns (missing heart rates, repeated words).
private func generatedRows() -> String {
    var rows = "age,max HR,chest pain,comment,sex\n"
    var random = Philox(seed: 5).stream(0)
    for index in 0..<20_000 {
        let age = 20 + Int(random.next() % 60)
        let hr = index % 13 == 0 ? "" : String(90 + random.nextUnitDouble() * 110)
        let pain = ["typical", "atypical", "non-anginal", "asymptomatic"][Int(random.next() % 4)]
        rows += "\(age),\(hr),\(pain),Word\(random.next() % 50) other,\(index % 3 == 0 ? "F" : "M")\n"
    }
    return rows
}

extension String {
    func replacingOccurrences(_ target: String, _ replacement: String) -> String {
        split(separator: target, omittingEmptySubsequences: false).joined(separator: replacement)
    }
}

#if canImport(Glibc)
import Glibc
#endif
