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

private func parsedJSON(_ text: UnsafePointer<CChar>?, _ what: String) throws -> JSONValue {
    try JSONValue.parse(try string(text, what))
}

@_cdecl("kiln_schema_infer")
public func kiln_schema_infer(_ statistics: UnsafePointer<CChar>?, _ options: UnsafePointer<CChar>?,
                              _ out: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    out?.pointee = nil
    return withStatus {
        let target = try output(out, "out_json")
        let summary = try StatisticsSummary(json: try parsedJSON(statistics, "statistics_json"))
        var settings = SchemaInferenceOptions()
        if let options {
            let json = try JSONValue.parse(String(cString: options))
            for (key, value) in json.objectMembers ?? [] {
                switch key {
                case "infer_ranges": settings.inferRanges = value.boolValue ?? false
                case "not_in_serving": settings.notInServing = value.arrayValue?.compactMap(\.stringValue) ?? []
                case "max_domain_size": settings.maximumDomainSize = value.intValue ?? settings.maximumDomainSize
                default: throw KilnError.invalidArgument("schema options: unknown key '\(key)' (known: infer_ranges, not_in_serving, max_domain_size)")
                }
            }
        }
        target.pointee = try ownedCString(try Schema.infer(from: summary, options: settings).json.pretty)
    }
}

@_cdecl("kiln_validate")
public func kiln_validate(_ statistics: UnsafePointer<CChar>?, _ schema: UnsafePointer<CChar>?, _ baseline: UnsafePointer<CChar>?,
                          _ serving: UnsafePointer<CChar>?, _ environment: UnsafePointer<CChar>?,
                          _ out: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    out?.pointee = nil
    return withStatus {
        let target = try output(out, "out_json")
        let report = try Validator.validate(
            try StatisticsSummary(json: try parsedJSON(statistics, "statistics_json")),
            schema: try Schema(json: try parsedJSON(schema, "schema_json")),
            environment: environment.map { String(cString: $0) },
            baseline: try baseline.map { try StatisticsSummary(json: try JSONValue.parse(String(cString: $0))) },
            serving: try serving.map { try StatisticsSummary(json: try JSONValue.parse(String(cString: $0))) })
        target.pointee = try ownedCString(report.json.text)
    }
}
