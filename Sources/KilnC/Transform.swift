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
