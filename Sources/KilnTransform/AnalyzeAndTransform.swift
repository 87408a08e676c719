import KilnCore
import KilnTabular

/// TF Transform's `AnalyzeAndTransformDataset`: one full pass analyses the data, then the
/// resulting graph transforms the same data. The batches parsed for the analysis are kept in
/// memory up to a budget and transformed from there (in parallel); past the budget they are
/// dropped and the file is read a second time, so memory stays bounded whatever the file size.
/// The outputs are the same either way, and the same as `analyze` followed by `apply`.
extension TransformGraph {
    /// Bytes of parsed batches kept between the two passes by default.
    public static let defaultCacheBytes = 192 << 20

    /// Analyses a CSV file with `spec`, then calls `body` with each transformed batch in file
    /// order; returns the graph. `report` receives the CSV reader's report (skipped rows).
    public static func analyzeAndApply(
        spec: TransformSpec, csvPath: String, options: CSVOptions = CSVOptions(),
        cacheBytes: Int = defaultCacheBytes, report: ((CSVReport) -> Void)? = nil,
        _ body: (TransformedTable) throws -> Void
    ) throws -> TransformGraph {
        try analyzeAndApply(spec: spec, options: options, cacheBytes: cacheBytes, report: report, body) {
            try CSVReader(path: csvPath, options: $0)
        }
    }

    /// As above, reading whatever `open` opens (once, or twice past the budget).
    static func analyzeAndApply(
        spec: TransformSpec, options: CSVOptions, cacheBytes: Int, report: ((CSVReport) -> Void)?,
        _ body: (TransformedTable) throws -> Void, open: (CSVOptions) throws -> CSVReader
    ) throws -> TransformGraph {
        var readOptions = options
        readOptions.columns = spec.columnsRead
        let reader = try open(readOptions)
        var analysis = TransformAnalysis(spec: spec)
        var cache: [CachedBatch?]? = []
        var cachedBytes = 0
        var droppedColumns: Set<String> = []
        try analysis.add(reader: reader, keepingValueIDs: { cache != nil }) { batch, valueIDs in
            guard cache != nil else { return }
            // Columns only kept ids need are not kept.
            let served = spec.columnsServed(by: valueIDs, in: batch)
            let kept = try Table(columns: batch.columns.filter { !served.contains($0.name) })
            droppedColumns.formUnion(served)
            cachedBytes += kept.byteCount + valueIDs.reduce(0) { $0 + ($1?.byteCount ?? 0) }
            if cachedBytes <= cacheBytes {
                cache!.append(CachedBatch(table: kept, rowCount: batch.rowCount, valueIDs: valueIDs))
            } else {
                cache = nil
            }
        }
        report?(reader.report)
        let graph = try analysis.finish()
        let idOutputs = analysis.idOutputs(for: graph)
        // Ids are valid only if their analyzers stayed exact; a batch lacking a column they
        // cannot then serve is read again.
        if droppedColumns.contains(where: { spec.readers(of: $0).contains { idOutputs[$0] == nil } }) { cache = nil }
        if var cache {
            try graph.apply(consuming: &cache, idOutputs: idOutputs, body)
        } else {
            for field in graph.inputSchema { readOptions.types[field.name] = field.type }
            try graph.apply(reader: try open(readOptions), body)
        }
        return graph
    }

    /// A batch kept between the two passes, with the ids its analysis gave its values (and
    /// without the columns only they serve: perhaps none, so the rows are counted here).
    struct CachedBatch {
        let table: Table
        let rowCount: Int
        let valueIDs: [ValueIDs?]
    }

    /// Transforms batches held in memory, a group of one per thread at a time, releasing each
    /// batch once transformed; `body` gets the results in order.
    func apply(consuming batches: inout [CachedBatch?], idOutputs: [IDOutputs?], _ body: (TransformedTable) throws -> Void) throws {
        let group = max(1, Threads.count)
        var start = 0
        while start < batches.count {
            let range = start..<min(start + group, batches.count)
            var results = [Result<TransformedTable, Error>?](repeating: nil, count: range.count)
            batches.withUnsafeMutableBufferPointer { cached in
                results.withUnsafeMutableBufferPointer { output in
                    let cached = UncheckedSendable(cached)
                    let output = UncheckedSendable(output)
                    Parallel.forEach(range.count) { chunk in
                        for index in chunk {
                            let batch = cached.value[range.lowerBound + index]!
                            output.value[index] = Result { try self.apply(batch.table, rows: batch.rowCount, valueIDs: batch.valueIDs, idOutputs: idOutputs) }
                            cached.value[range.lowerBound + index] = nil
                        }
                    }
                }
            }
            for result in results { try body(try result!.get()) }
            start = range.upperBound
        }
    }
}
