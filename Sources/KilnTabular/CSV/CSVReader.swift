import KilnCore

#if canImport(Glibc)
import Glibc
#endif

/// A streaming CSV reader: the file is read in blocks that end on record boundaries, several
/// blocks are parsed at once on Kiln's threads, and each block becomes one batch, delivered in
/// file order. Memory stays bounded by the block size whatever the file size; the batches do
/// not depend on the thread count.
///
/// Column types are inferred from the first `inferenceRows` records (int, then float, then
/// bool, else string; a column with no value in the sample is a string) unless overridden.
/// A reader is used from one thread at a time.
public final class CSVReader {
    /// The columns the batches have (the selected ones, in file order).
    public let schema: [Field]
    /// Every column of the file, with its (inferred or overridden) type.
    public let fileSchema: [Field]
    public private(set) var report = CSVReport()

    private let feed: BlockFeed
    private let options: CSVOptions
    private let tokenizer: CSVTokenizer
    private var parser: CSVBlockParser
    private let sourceName: String
    private var ready: [Table] = []
    private var linesBefore = 0
    private var exhausted = false

    /// Opens `path` and reads its header and type-inference sample.
    public convenience init(path: String, options: CSVOptions = CSVOptions()) throws {
        try self.init(source: try FileSource(path: path), name: path, options: options)
    }

    /// Reads CSV text held in memory.
    public convenience init(bytes: [UInt8], options: CSVOptions = CSVOptions()) throws {
        try self.init(source: MemorySource(bytes: bytes), name: "CSV", options: options)
    }

    private init(source: ByteSource, name: String, options rawOptions: CSVOptions) throws {
        let options = try rawOptions.validated()
        self.options = options
        self.sourceName = name
        let tokenizer = CSVTokenizer(delimiter: options.delimiter, quote: options.quote)
        self.tokenizer = tokenizer

        // The first block holds the header and the inference sample.
        feed = BlockFeed(source: source, tokenizer: tokenizer, blockBytes: options.blockBytes)
        var first = try feed.nextBlock() ?? []
        // A UTF-8 byte-order mark (as spreadsheet programs write) is not part of the first name.
        if first.starts(with: [0xEF, 0xBB, 0xBF]) { first.removeFirst(3) }
        guard !first.isEmpty else { throw KilnError.format("\(name): the file is empty (no header or records)") }
        var names: [String] = []
        var headerLines = 0
        var headerProblem: String? = nil
        let firstRecordEnd = first.withUnsafeBufferPointer { tokenizer.firstRecordEnd($0) }
        first[..<firstRecordEnd].withUnsafeBufferPointer { record in
            let tokens = tokenizer.tokenize(record, expectedRecords: 1, fieldsPerRecord: 64)
            guard tokens.recordCount > 0 else { return }
            if let problem = RecordProblem(rawValue: tokens.recordProblem[0]), problem != .none { headerProblem = problem.reason }
            names = tokens.fields(0).map { String(decoding: $0, as: UTF8.self) }
        }
        if let headerProblem { throw KilnError.format("\(name): line 1: \(headerProblem)") }
        guard !names.isEmpty else { throw KilnError.format("\(name): the file is empty (no header or records)") }
        if options.hasHeader {
            headerLines = first[..<firstRecordEnd].reduce(0) { $0 + ($1 == 0x0A ? 1 : 0) }
            first.removeFirst(firstRecordEnd)
            names = names.enumerated().map { index, name in name.isEmpty ? "column_\(index + 1)" : name }
            var seen: [String: Int] = [:]
            for (index, column) in names.enumerated() {
                if let earlier = seen[column] {
                    throw KilnError.format(
                        "\(name): header: duplicate column name '\(column)' (columns \(earlier + 1) and \(index + 1))")
                }
                seen[column] = index
            }
        } else {
            names = (1...names.count).map { "column_\($0)" }
        }
        linesBefore = headerLines

        let types = try Self.inferTypes(
            first, columns: names.count, tokenizer: tokenizer, options: options, names: names)
        fileSchema = zip(names, types).map { Field(name: $0, type: $1) }
        let unknown = Set(options.types.keys).subtracting(names).sorted()
        guard unknown.isEmpty else {
            throw KilnError(.notFound, "no column \(unknown.map { "'\($0)'" }.joined(separator: ", ")) in \(name) (type override); the file has \(describeFields(fileSchema))")
        }
        var selected: [(index: Int, field: Field)]
        if let wanted = options.columns {
            let missing = wanted.filter { !names.contains($0) }
            guard missing.isEmpty else {
                throw KilnError(.notFound, "no column \(missing.map { "'\($0)'" }.joined(separator: ", ")) in \(name); the file has \(describeFields(fileSchema))")
            }
            selected = fileSchema.enumerated().filter { wanted.contains($0.element.name) }.map { ($0.offset, $0.element) }
        } else {
            selected = fileSchema.enumerated().map { ($0.offset, $0.element) }
        }
        schema = selected.map(\.field)
        parser = CSVBlockParser(
            tokenizer: tokenizer, fieldCount: names.count, selected: selected,
            missing: MissingTokens(options.missingTokens), policy: options.badRows)
        let sampleLines = first.reduce(0) { $0 + ($1 == 0x0A ? 1 : 0) }
        parser.rowsPerByte = first.isEmpty ? 0.01 : Double(sampleLines + 1) / Double(first.count)
        if !first.isEmpty { feed.putBack(first) }
    }

    /// One token table per block parsed at once, reused across blocks.
    private var tokenTables: [TokenTable] = []

    /// The next batch, or nil at the end of the file. Throws on the first malformed row under
    /// `BadRowPolicy.error`, naming its line and column.
    public func next() throws -> Table? {
        while ready.isEmpty {
            guard !exhausted else { return nil }
            try parseMoreBlocks()
        }
        return ready.removeFirst()
    }

    /// Reads the whole remaining input into one table.
    public func readAll() throws -> Table {
        var batches: [Table] = []
        while let batch = try next() { batches.append(batch) }
        if batches.isEmpty {
            return try Table(columns: schema.map { field in
                let values: ColumnValues = switch field.type {
                case .float: .float([])
                case .int: .int([])
                case .bool: .bool([])
                case .string: .string(StringArray())
                }
                return try Column(name: field.name, values: values)
            })
        }
        return try Table.concatenate(batches)
    }

    /// Reads a whole file.
    public static func read(path: String, options: CSVOptions = CSVOptions()) throws -> Table {
        try CSVReader(path: path, options: options).readAll()
    }

    private var threadCount: Int { options.threads > 0 ? options.threads : Threads.count }

    private func parseMoreBlocks() throws {
        let blocks = try readGroup()
        let results = parse(blocks) { _, result in result }
        for result in results {
            if let batch = try account(result) { ready.append(batch) }
        }
    }

    /// The next batches, one per block of a group read at once, each passed to `transform` on
    /// the thread that parsed it (so parsing and the caller's per-batch work run in parallel
    /// together); the results come back in file order, nil at the end of the input. Errors
    /// (malformed rows, or thrown by `transform`) surface in file order too.
    public func nextGroup<T>(_ transform: (Table) throws -> T) throws -> [T]? {
        if !ready.isEmpty {
            let batches = ready
            ready = []
            return try batches.map(transform)
        }
        guard !exhausted else { return nil }
        let blocks = try readGroup()
        if blocks.isEmpty { return nil }
        let results = withoutActuallyEscaping(transform) { transform in
            let shared = UncheckedSendable(transform)
            return parse(blocks) { _, result -> (BlockResult, Result<T, Error>?) in
                guard result.error == nil, let batch = result.batch, batch.rowCount > 0 else { return (result, nil) }
                return (result, Result { try shared.value(batch) })
            }
        }
        var outputs: [T] = []
        for (result, transformed) in results {
            _ = try account(result)
            if let transformed { outputs.append(try transformed.get()) }
        }
        return outputs
    }

    /// Reads up to one block per thread (the next group starts reading on another thread when
    /// there are several); marks the reader exhausted at the end of the input.
    private func readGroup() throws -> [[UInt8]] {
        let group = try feed.nextGroup(count: threadCount, readAhead: threadCount > 1)
        if group.isLast { exhausted = true }
        return group.blocks
    }

    /// Parses blocks in parallel (one token table each, reused), then runs `finish` on each
    /// result on the same thread.
    private func parse<R>(_ blocks: [[UInt8]], _ finish: (Int, BlockResult) -> R) -> [R] {
        let parser = self.parser
        while tokenTables.count < blocks.count { tokenTables.append(TokenTable()) }
        let tables = UncheckedSendable(tokenTables)
        var results = [R?](repeating: nil, count: blocks.count)
        withoutActuallyEscaping(finish) { finish in
            let finish = UncheckedSendable(finish)
            results.withUnsafeMutableBufferPointer { output in
                let output = UncheckedSendable(output)
                Parallel.forEach(blocks.count, threads: threadCount) { range in
                    for index in range {
                        let result = blocks[index].withUnsafeBufferPointer { parser.parse($0, tokens: tables.value[index]) }
                        output.value[index] = finish.value(index, result)
                    }
                }
            }
        }
        return results.map { $0! }
    }

    /// Counts a block's rows and skipped rows, throws its error (with the file's line number),
    /// and returns its batch unless it is empty.
    private func account(_ result: BlockResult) throws -> Table? {
        for issue in result.skipped {
            report.skippedRows[issue.reason, default: 0] += 1
            if report.skippedExamples.count < 10 {
                report.skippedExamples.append("\(sourceName): line \(linesBefore + issue.line + 1): \(issue.message)")
            }
        }
        if let error = result.error {
            exhausted = true
            throw KilnError.format("\(sourceName): line \(linesBefore + error.line + 1): \(error.message)")
        }
        linesBefore += result.lines
        guard let batch = result.batch, batch.rowCount > 0 else { return nil }
        report.rows += batch.rowCount
        return batch
    }

    private static func inferTypes(
        _ sample: [UInt8], columns: Int, tokenizer: CSVTokenizer, options: CSVOptions, names: [String]
    ) throws -> [ColumnType] {
        let missing = MissingTokens(options.missingTokens)
        var canInt = [Bool](repeating: true, count: columns)
        var canFloat = canInt
        var canBool = canInt
        var sawValue = [Bool](repeating: false, count: columns)
        sample.withUnsafeBufferPointer { block in
            let tokens = tokenizer.tokenize(block, expectedRecords: 1024, fieldsPerRecord: columns)
            for record in 0..<min(tokens.recordCount, options.inferenceRows) {
                guard tokens.recordProblem[record] == 0, tokens.fieldCount(record) == columns else { continue }
                for column in 0..<columns {
                    let text = tokens.field(record, column)
                    if missing.contains(text) { continue }
                    sawValue[column] = true
                    if canInt[column] && TextNumbers.parseInt(text) == nil { canInt[column] = false }
                    if canFloat[column] && !canInt[column] && TextNumbers.parseDouble(text) == nil { canFloat[column] = false }
                    if canBool[column] && TextNumbers.parseBool(text) == nil { canBool[column] = false }
                }
            }
        }
        return (0..<columns).map { column in
            if let forced = options.types[names[column]] { return forced }
            guard sawValue[column] else { return .string }
            if canInt[column] { return .int }
            if canFloat[column] { return .float }
            if canBool[column] { return .bool }
            return .string
        }
    }
}
