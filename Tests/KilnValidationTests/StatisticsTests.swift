import KilnCore
import KilnTabular
import Testing

@testable import KilnValidation

private func csvFile(_ name: String, _ text: String) throws -> String {
    let folder = "/tmp/kiln-validation-tests-\(getpid())"
    try FileIO.makeDirectory(folder)
    let path = "\(folder)/\(name)"
    try FileIO.write(Array(text.utf8), to: path)
    return path
}

@Suite struct StatisticsTests {
    @Test func summarisesNumbersAndStringsAndCountsInvalidRows() throws {
        let path = try csvFile("small.csv", "x,s\n1.5,a\n,b\n0,a\nnan,\ninf,c\n2,a\n3\n4,x,extra\n")
        let statistics = try DatasetStatistics.generate(csvPath: path)
        #expect(statistics.rows == 6 && statistics.invalidRows == ["wrong field count": 2])
        let x = statistics.features[0]
        #expect(x.present == 5 && x.missing == 1 && x.nanCount == 1 && x.positiveInfinity == 1 && x.zeros == 1)
        #expect(x.moments.count == 3 && abs(x.moments.mean - 3.5 / 3) < 1e-15)
        let s = statistics.features[1]
        #expect(s.present == 5 && s.missing == 1)
        #expect(s.frequencies.top(1).first?.value == "a" && s.frequencies.top(1).first?.count == 3)
        let json = statistics.json
        #expect(json["num_rows"] == .int(8) && json["num_invalid_rows"] == .int(2))
        let histogram = json["features"]!.arrayValue![0]["histogram"]!.arrayValue!
        #expect(histogram.compactMap { $0["count"]?.doubleValue }.reduce(0, +) == 3)
    }

    @Test func mergedPartialsEqualOnePassAndThreadsDoNotMatter() throws {
        var text = "value,group\n"
        var random = Philox(seed: 21).stream(0)
        for index in 0..<30_000 { text += "\(random.nextNormal() * 10),g\(index % 7)\n" }
        let path = try csvFile("large.csv", text)
        var results: [String] = []
        for threads in [1, 2] {
            var options = CSVOptions()
            options.threads = threads
            options.blockBytes = 16_384
            results.append(try DatasetStatistics.generate(csvPath: path, options: options, sliceColumn: "group").json.text)
        }
        #expect(results[0] == results[1])
        let whole = try DatasetStatistics.generate(csvPath: path, sliceColumn: "group")
        let decoded = try DatasetStatistics(encoded: whole.encoded())
        #expect(decoded.json == whole.json)
        #expect(whole.slices.count == 7 && whole.slices.values.map(\.rows).reduce(0, +) == 30_000)
        let wrongSlice = #expect(throws: KilnError.self) { try DatasetStatistics.generate(csvPath: path, sliceColumn: "grup") }
        #expect(wrongSlice?.message.contains("'group' (string)") == true)
    }
}

#if canImport(Glibc)
import Glibc
#endif
