// Feature preprocessing: analysis, transform graphs, apply.
import CKilnHeader
import KilnCore
import KilnTabular
import KilnTransform

#if canImport(Glibc)
import Glibc
#endif

/// The C view of a graph: the graph and C strings of its output names.
final class GraphHandle {
    let graph: TransformGraph
    let outputs: [OutputField]
    let outputNames: [UnsafeMutablePointer<CChar>]

    init(_ graph: TransformGraph) {
        self.graph = graph
        outputs = graph.outputSchema
        outputNames = outputs.map { strdup($0.name)! }
    }

    deinit { outputNames.forEach { free($0) } }
}

private func makeGraph(_ out: UnsafeMutablePointer<OpaquePointer?>?, _ body: () throws -> TransformGraph) -> Int32 {
    out?.pointee = nil
    return withStatus {
        let target = try output(out, "out_graph")
        target.pointee = retained(GraphHandle(try body()))
    }
}

@_cdecl("kiln_transform_analyze_csv")
public func kiln_transform_analyze_csv(_ spec: UnsafePointer<CChar>?, _ path: UnsafePointer<CChar>?, _ options: UnsafePointer<CChar>?,
                                       _ out: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    makeGraph(out) {
        let parsed = try TransformSpec(jsonText: try string(spec, "spec_json"))
        return try TransformAnalysis.analyze(spec: parsed, csvPath: try string(path, "csv_path"), options: try csvOptions(options)).finish()
    }
}

@_cdecl("kiln_transform_analyze_table")
public func kiln_transform_analyze_table(_ spec: UnsafePointer<CChar>?, _ table: OpaquePointer?,
                                         _ out: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    makeGraph(out) {
        let parsed = try TransformSpec(jsonText: try string(spec, "spec_json"))
        let data = try borrowed(table, TableHandle.self, "table").table()
        return try TransformAnalysis.analyze(spec: parsed, table: data).finish()
    }
}

@_cdecl("kiln_transform_graph_load")
public func kiln_transform_graph_load(_ path: UnsafePointer<CChar>?, _ out: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    makeGraph(out) { try TransformGraph.load(path: try string(path, "path")) }
}

@_cdecl("kiln_transform_graph_load_json")
public func kiln_transform_graph_load_json(_ json: UnsafePointer<CChar>?, _ out: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    makeGraph(out) { try TransformGraph(jsonText: try string(json, "json")) }
}

@_cdecl("kiln_transform_graph_free")
public func kiln_transform_graph_free(_ graph: OpaquePointer?) { release(graph, GraphHandle.self) }

@_cdecl("kiln_transform_graph_to_json")
public func kiln_transform_graph_to_json(_ graph: OpaquePointer?, _ out: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    out?.pointee = nil
    return withStatus {
        let handle = try borrowed(graph, GraphHandle.self, "graph")
        try output(out, "out_json").pointee = try ownedCString(handle.graph.json.text)
    }
}

@_cdecl("kiln_transform_output_count")
public func kiln_transform_output_count(_ graph: OpaquePointer?, _ out: UnsafeMutablePointer<Int>?) -> Int32 {
    out?.pointee = 0
    return withStatus { try output(out, "out_count").pointee = try borrowed(graph, GraphHandle.self, "graph").outputs.count }
}

@_cdecl("kiln_transform_output_info")
public func kiln_transform_output_info(_ graph: OpaquePointer?, _ index: Int, _ name: UnsafeMutablePointer<UnsafePointer<CChar>?>?,
                                       _ type: UnsafeMutablePointer<Int32>?, _ width: UnsafeMutablePointer<Int>?) -> Int32 {
    name?.pointee = nil
    type?.pointee = 0
    width?.pointee = 0
    return withStatus {
        let handle = try borrowed(graph, GraphHandle.self, "graph")
        guard index >= 0 && index < handle.outputs.count else {
            throw KilnError.invalidArgument("output index \(index) is out of range (the graph has \(handle.outputs.count))")
        }
        name?.pointee = UnsafePointer(handle.outputNames[index])
        type?.pointee = columnTypeCode(handle.outputs[index].type)
        width?.pointee = handle.outputs[index].width
    }
}

@_cdecl("kiln_transform_apply")
public func kiln_transform_apply(_ graph: OpaquePointer?, _ input: OpaquePointer?, _ out: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    out?.pointee = nil
    return withStatus {
        let target = try output(out, "out_table")
        let handle = try borrowed(graph, GraphHandle.self, "graph")
        let data = try borrowed(input, TableHandle.self, "input").table()
        let result = try handle.graph.apply(data)
        target.pointee = retained(try TableHandle(result.outputs, rows: result.rowCount))
    }
}

private func ownedBytes(_ bytes: [UInt8], _ out: UnsafeMutablePointer<UnsafeMutableRawPointer?>?, _ size: UnsafeMutablePointer<Int>?) throws {
    let target = try output(out, "out_bytes")
    let length = try output(size, "out_size")
    guard let memory = malloc(max(bytes.count, 1)) else { throw KilnError(.outOfMemory, "cannot allocate \(bytes.count) bytes") }
    bytes.withUnsafeBytes { memory.copyMemory(from: $0.baseAddress ?? UnsafeRawPointer(memory), byteCount: $0.count) }
    target.pointee = memory
    length.pointee = bytes.count
}

@_cdecl("kiln_transform_partial_csv")
public func kiln_transform_partial_csv(_ spec: UnsafePointer<CChar>?, _ path: UnsafePointer<CChar>?, _ options: UnsafePointer<CChar>?,
                                       _ out: UnsafeMutablePointer<UnsafeMutableRawPointer?>?, _ size: UnsafeMutablePointer<Int>?) -> Int32 {
    out?.pointee = nil
    size?.pointee = 0
    return withStatus {
        let parsed = try TransformSpec(jsonText: try string(spec, "spec_json"))
        let analysis = try TransformAnalysis.analyze(spec: parsed, csvPath: try string(path, "csv_path"), options: try csvOptions(options))
        try ownedBytes(analysis.encoded(), out, size)
    }
}

@_cdecl("kiln_transform_partial_table")
public func kiln_transform_partial_table(_ spec: UnsafePointer<CChar>?, _ table: OpaquePointer?,
                                         _ out: UnsafeMutablePointer<UnsafeMutableRawPointer?>?, _ size: UnsafeMutablePointer<Int>?) -> Int32 {
    out?.pointee = nil
    size?.pointee = 0
    return withStatus {
        let parsed = try TransformSpec(jsonText: try string(spec, "spec_json"))
        let data = try borrowed(table, TableHandle.self, "table").table()
        try ownedBytes(try TransformAnalysis.analyze(spec: parsed, table: data).encoded(), out, size)
    }
}

@_cdecl("kiln_transform_merge")
public func kiln_transform_merge(_ partials: UnsafePointer<UnsafeRawPointer?>?, _ sizes: UnsafePointer<Int>?, _ count: Int,
                                 _ out: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    makeGraph(out) {
        guard count >= 1 else { throw KilnError.invalidArgument("give at least one partial analysis (count is \(count))") }
        guard let partials, let sizes else { throw KilnError(.nullPointer, "partials or sizes is NULL") }
        var merged: TransformAnalysis? = nil
        for index in 0..<count {
            guard let bytes = partials[index] else { throw KilnError(.nullPointer, "partials[\(index)] is NULL") }
            let partial = try TransformAnalysis(encoded: Array(UnsafeRawBufferPointer(start: bytes, count: sizes[index])))
            if merged == nil { merged = partial } else { try merged!.merge(partial) }
        }
        return try merged!.finish()
    }
}
