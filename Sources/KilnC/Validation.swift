// Data validation: statistics.
import KilnCore
import KilnTabular
import KilnValidation

@_cdecl("kiln_statistics_from_csv")
public func kiln_statistics_from_csv(_ path: UnsafePointer<CChar>?, _ options: UnsafePointer<CChar>?, _ slice: UnsafePointer<CChar>?,
                                     _ out: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    out?.pointee = nil
    return withStatus {
        let target = try output(out, "out_json")
        let statistics = try DatasetStatistics.generate(
            csvPath: try string(path, "csv_path"), options: try csvOptions(options), sliceColumn: slice.map { String(cString: $0) })
        target.pointee = try ownedCString(statistics.json.text)
    }
}

@_cdecl("kiln_statistics_from_table")
public func kiln_statistics_from_table(_ table: OpaquePointer?, _ slice: UnsafePointer<CChar>?,
                                       _ out: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    out?.pointee = nil
    return withStatus {
        let target = try output(out, "out_json")
        let data = try borrowed(table, TableHandle.self, "table").table()
        var statistics = try DatasetStatistics(schema: data.schema, sliceColumn: slice.map { String(cString: $0) })
        try statistics.add(data)
        target.pointee = try ownedCString(statistics.json.text)
    }
}
