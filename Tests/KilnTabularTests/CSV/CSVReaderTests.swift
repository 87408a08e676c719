import CKilnSupport
import KilnCore
import Testing

@testable import KilnTabular

private func read(_ text: String, _ configure: (inout CSVOptions) -> Void = { _ in }) throws -> Table {
    var options = CSVOptions()
    configure(&options)
    return try CSVReader(bytes: Array(text.utf8), options: options).readAll()
}

@Suite struct CSVReaderTests {
    @Test func infersTypesAndMissingValues() throws {
        let table = try read("a,b,c,d,e\n1,1.5,true,x,\n2,NA,FALSE,\"y, z\",\n-3,2e3,true,,\n")
        #expect(table.schema.map(\.type) == [.int, .float, .bool, .string, .string])
        #expect(table.rowCount == 3)
        #expect(try table.column("a").values == .int([1, 2, -3]))
        let b = try table.column("b")
        #expect(b.values == .float([1.5, 0, 2000]))
        #expect(b.validity[1] == false && b.missingCount == 1)
        #expect(try table.column("c").values == .bool([true, false, true]))
        let d = try table.column("d")
        #expect(d.text(1) == "y, z" && d.missingCount == 1)
        #expect(try table.column("e").missingCount == 3)
    }

    @Test func skipsAByteOrderMark() throws {
        let table = try CSVReader(bytes: [0xEF, 0xBB, 0xBF] + Array("max HR,x\n1,2\n".utf8)).readAll()
        #expect(table.schema.map(\.name) == ["max HR", "x"])
    }

    @Test func followsRFC4180Quoting() throws {
        let table = try read("name,note\r\n\"Allen, Miss\",\"said \"\"hi\"\"\r\nthen left\"\r\nBob,5'10\"\r\n")
        let note = try table.column("note")
        #expect(table.rowCount == 2)
        #expect(try table.column("name").text(0) == "Allen, Miss")
        #expect(note.text(0) == "said \"hi\"\r\nthen left")
        #expect(note.text(1) == "5'10\"")
    }

    @Test func parsesNumbersExactly() throws {
        let texts = ["0.1", "1e-300", "123456789012345678901234", "-0.0", "3.141592653589793238", "1e23", "4.9e-324",
                     " 42 ", ".5", "5.", "nan", "-inf", "Infinity", "2.2250738585072014e-308", "9007199254740993"]
        for text in texts {
            let parsed = Array(text.utf8).withUnsafeBufferPointer { TextNumbers.parseDouble($0) }
            let expected = Double(text.trimmingSpaces)!
            #expect(parsed?.bitPattern == expected.bitPattern || (parsed!.isNaN && expected.isNaN), "\(text)")
        }
        for bad in ["", "-", ".", "1e", "1.2.3", "0x10", "1,5", "abc", "1e+"] {
            #expect(Array(bad.utf8).withUnsafeBufferPointer { TextNumbers.parseDouble($0) } == nil, "\(bad)")
        }
        #expect(Array("-9223372036854775808".utf8).withUnsafeBufferPointer { TextNumbers.parseInt($0) } == Int64.min)
        #expect(Array("9223372036854775808".utf8).withUnsafeBufferPointer { TextNumbers.parseInt($0) } == nil)
    }

    @Test func randomDecimalsRoundTripThroughTheFastPath() throws {
        var random = Philox(seed: 3).stream(0)
        for _ in 0..<20_000 {
            let value = Double(bitPattern: random.next() & 0x7FEF_FFFF_FFFF_FFFF) * (random.next() & 1 == 0 ? 1 : -1)
            let short = String(Double(Float(random.nextUnitDouble() * 1000)))
            for text in [String(value), short] {
                let parsed = Array(text.utf8).withUnsafeBufferPointer { TextNumbers.parseDouble($0) }
                #expect(parsed == Double(text), "\(text)")
            }
        }
    }

    @Test func fractionsOfEveryLengthAndTheirTailsParseAsStrtod() throws {
        // Fractions whose last 1–7 digits are read as one word, around the 19-digit limit, and
        // a non-digit anywhere in that word (which must fail, or end the digits before an exponent).
        var random = Philox(seed: 6).stream(1)
        for whole in ["0", "7", "15", "-123", "98765432"] {
            for length in 1...22 {
                let fraction = String((0..<length).map { _ in Character(String(random.next() % 10)) })
                let text = "\(whole).\(fraction)"
                for candidate in [text, text + "e-7", text + "E12", " \(text) "] {
                    let parsed = Array(candidate.utf8).withUnsafeBufferPointer { TextNumbers.parseDouble($0) }
                    #expect(parsed?.bitPattern == Double(candidate.trimmingSpaces)?.bitPattern, "\(candidate)")
                }
                for position in text.indices.dropFirst() where text[position] != "." {
                    for junk: Character in ["x", "/", ":", "-", " "] {
                        var bad = text
                        bad.replaceSubrange(position...position, with: String(junk))
                        let parsed = Array(bad.utf8).withUnsafeBufferPointer { TextNumbers.parseDouble($0) }
                        #expect(parsed?.bitPattern == Double(bad.trimmingSpaces)?.bitPattern, "\(bad)")
                    }
                }
            }
        }
    }

    @Test func longMantissasAndExtremeExponentsMatchStrtod() throws {
        var random = Philox(seed: 4).stream(9)
        for _ in 0..<50_000 {
            let digits = 1 + Int(random.next() % 19)
            var text = ""
            for index in 0..<digits { text += String(index == 0 ? 1 + random.next() % 9 : random.next() % 10) }
            text += "e\(Int(random.next() % 660) - 345)"
            let parsed = Array(text.utf8).withUnsafeBufferPointer { TextNumbers.parseDouble($0) }
            #expect(parsed?.bitPattern == Double(text)?.bitPattern, "\(text)")
        }
    }

    @Test func reportsMalformedRowsWithLineAndColumn() throws {
        let wrongCount = #expect(throws: KilnError.self) { try read("a,b\n1,2\n3\n") }
        #expect(wrongCount?.message == "CSV: line 3: expected 2 fields, found 1")
        #expect(wrongCount?.code == .format)
        let unparsable = #expect(throws: KilnError.self) { try read("a,b\n1,2\n3,x\n") { $0.types = ["b": .float] } }
        #expect(unparsable?.message == "CSV: line 3: column 2 ('b'): cannot read 'x' as float")
        let unterminated = #expect(throws: KilnError.self) { try read("a,b\n1,\"2\n3,4\n") }
        #expect(unterminated?.message == "CSV: line 2: unterminated quoted field in field 2")
        let afterQuote = #expect(throws: KilnError.self) { try read("a,b\n\"1\"x,2\n") }
        #expect(afterQuote?.message == "CSV: line 2: text after a closing quote in field 1")
        let unknownOverride = #expect(throws: KilnError.self) { try read("a,b\n1,2\n") { $0.types = ["c": .int] } }
        #expect(unknownOverride?.message.contains("the file has 'a' (int), 'b' (int)") == true)
        #expect(throws: KilnError.self) { try read("") }
        #expect(throws: KilnError.self) { try CSVReader(bytes: [0xEF, 0xBB, 0xBF]).readAll() }
        let headerOnly = try read("a,b")
        #expect(headerOnly.rowCount == 0 && headerOnly.schema.map(\.name) == ["a", "b"])
        #expect(throws: KilnError.self) { try read("a,a\n1,2\n") }
    }

    @Test func skipsAndCountsMalformedRowsWhenAsked() throws {
        var options = CSVOptions()
        options.badRows = .skip
        options.types = ["b": .int]
        let reader = try CSVReader(bytes: Array("a,b\n1,2\n3\n4,x\n5,6,7\n8,9\n".utf8), options: options)
        let table = try reader.readAll()
        #expect(try table.column("a").values == .int([1, 8]))
        #expect(try table.column("b").values == .int([2, 9]))
        #expect(reader.report.rows == 2)
        #expect(reader.report.skippedRows == ["wrong field count": 2, "unparsable value": 1])
        #expect(reader.report.skippedExamples.first == "CSV: line 3: expected 2 fields, found 1")
    }

    @Test(arguments: [1, 2, 3])
    func batchesDoNotDependOnThreadsAndKeepLineNumbers(threads: Int) throws {
        var text = "id,value,label\n"
        for row in 0..<5000 {
            text += row % 7 == 0 ? "\(row),,\"multi\nline \(row)\"\n" : "\(row),\(Double(row) * 0.25),plain\n"
        }
        text += "5000,oops,x\n"
        var options = CSVOptions()
        options.blockBytes = 4096
        options.threads = threads
        options.types = ["value": .float]
        options.inferenceRows = 100
        let reader = try CSVReader(bytes: Array(text.utf8), options: options)
        var rows = 0
        var batches = 0
        let error = #expect(throws: KilnError.self) {
            while let batch = try reader.next() {
                let ids = try batch.column("id")
                guard case .int(let values) = ids.values else { Issue.record("id is not int"); return }
                #expect(values.first == Int64(rows))
                rows += batch.rowCount
                batches += 1
            }
        }
        let lines = 1 + 5000 + 5000 / 7 + 1 + 1
        #expect(error?.message == "CSV: line \(lines): column 2 ('value'): cannot read 'oops' as float")
        #expect(rows > 4000 && batches > 10)
    }

    @Test func selectsColumnsAndReadsFilesInBlocks() throws {
        let path = temporaryPath("select.csv")
        var text = "x,y,z\n"
        for row in 0..<3000 { text += "\(row),\(row * 2),\"s\(row)\"\n" }
        try FileIO.write(Array(text.utf8), to: path)
        var options = CSVOptions()
        options.columns = ["z", "x"]
        options.blockBytes = 1024
        let table = try CSVReader.read(path: path, options: options)
        #expect(table.schema == [Field(name: "x", type: .int), Field(name: "z", type: .string)])
        #expect(table.rowCount == 3000)
        #expect(try table.column("z").text(2999) == "s2999")
        let missing = #expect(throws: KilnError.self) { try CSVReader.read(path: temporaryPath("nope.csv")) }
        #expect(missing?.code == .io)
    }

    @Test func separatorMarksMatchAByteAtATimeScan() {
        let random = Philox(seed: 7)
        for count in Array(0...200) + [4095, 4096, 4097, 100_003] {
            for (first, second) in [(UInt8(ascii: ","), UInt8(ascii: "\n")), (0, 1)] {
                let source = (0..<count).map { index in UInt8(truncatingIfNeeded: random.block(stream: 0, counter: UInt64(index)).x % 6) &+ (first == 0 ? 0 : 0x0A) }
                var target = [UInt8](repeating: 0xFF, count: count)
                var marks = [UInt64](repeating: ~0, count: (count + 63) / 64)
                ckiln_copy_marking_bytes(source, &target, count, first, second, &marks)
                var expected = [UInt64](repeating: 0, count: (count + 63) / 64)
                for (index, byte) in source.enumerated() where byte == first || byte == second {
                    expected[index / 64] |= 1 << UInt64(index % 64)
                }
                #expect(target == source && marks == expected, "count \(count), bytes \(first) and \(second)")
            }
        }
    }

    /// Fields of every length from 0 to past 130 bytes, quoted or not, put field and record ends
    /// at every offset of the tokenizer's 64-byte separator words.
    @Test func randomRecordsReadBackAcrossSeparatorWords() throws {
        let random = Philox(seed: 11)
        var counter: UInt64 = 0
        func next(_ bound: UInt32) -> Int {
            counter += 1
            return Int(random.block(stream: 1, counter: counter).x % bound)
        }
        let alphabet = Array("ab ,\"\n\rxyz".utf8)
        var text = "k,a,b\n"
        var expected: [[String]] = []
        for row in 0..<600 {
            var fields = ["\(row)"]
            var line = "\(row)"
            for _ in 0..<2 {
                let value = String(decoding: (0..<next(140)).map { _ in alphabet[next(UInt32(alphabet.count))] }, as: UTF8.self)
                let quoted = value.utf8.contains { $0 == 0x2C || $0 == 0x22 || $0 == 0x0A || $0 == 0x0D } || next(4) == 0
                line += "," + (quoted ? "\"" + value.split(separator: "\"", omittingEmptySubsequences: false).joined(separator: "\"\"") + "\"" : value)
                fields.append(value)
            }
            text += line + (next(3) == 0 ? "\r\n" : "\n")
            expected.append(fields)
        }
        for blockBytes in [1024, 1 << 21] {
            var options = CSVOptions()
            options.types = ["k": .int, "a": .string, "b": .string]
            options.missingTokens = []
            options.blockBytes = blockBytes
            let table = try CSVReader(bytes: Array(text.utf8), options: options).readAll()
            #expect(table.rowCount == expected.count)
            for (column, name) in ["k", "a", "b"].enumerated() {
                let values = try table.column(name)
                #expect((0..<table.rowCount).map { values.text($0) } == expected.map { $0[column] }, "\(name), blocks of \(blockBytes)")
            }
        }
    }

    /// Columns are converted 1,024 records at a time: failures past the first step are found,
    /// the first by line is the error, and skipping drops exactly the failed rows.
    @Test func conversionFailuresPastTheFirstStep() throws {
        var text = "a,b\n"
        for row in 0..<3000 { text += row == 2900 ? "x,\(row)\n" : row == 2500 ? "\(row),y\n" : "\(row),\(row)\n" }
        let failed = #expect(throws: KilnError.self) { try read(text) { $0.types = ["a": .int, "b": .int] } }
        #expect(failed?.message == "CSV: line 2502: column 2 ('b'): cannot read 'y' as int")
        var options = CSVOptions()
        options.types = ["a": .int, "b": .int]
        options.badRows = .skip
        let reader = try CSVReader(bytes: Array(text.utf8), options: options)
        let table = try reader.readAll()
        let kept = (0..<3000).filter { $0 != 2500 && $0 != 2900 }.map(Int64.init)
        #expect(try table.column("a").values == .int(kept))
        #expect(try table.column("b").values == .int(kept))
        #expect(reader.report.skippedRows == ["unparsable value": 2])
    }

    @Test func writerRoundTrips() throws {
        let source = try read("a,b,c,d\n1,0.1,true,\"x,\"\"y\"\"\"\n,-2.5e-7,,plain\n3,nan,false,\n")
        let path = temporaryPath("roundtrip.csv")
        try CSVWriter.write(source, to: path)
        let text = String(decoding: try FileIO.read(path), as: UTF8.self)
        #expect(text == "a,b,c,d\n1,0.1,true,\"x,\"\"y\"\"\"\n,-2.5e-07,,plain\n3,nan,false,\n")
        let again = try CSVReader.read(path: path)
        #expect(again.schema == source.schema)
        for (mine, theirs) in zip(again.columns, source.columns) {
            #expect(mine.validity == theirs.validity)
            #expect((0..<3).map(mine.text) == (0..<3).map(theirs.text))
        }
    }
}

extension String {
    var trimmingSpaces: String { String(drop { $0 == " " }.reversed().drop { $0 == " " }.reversed()) }
}

func temporaryPath(_ name: String) -> String {
    let folder = "/tmp/kiln-tabular-tests-\(getpid())"
    try? FileIO.makeDirectory(folder)
    return folder + "/" + name
}

#if canImport(Glibc)
import Glibc
#endif
