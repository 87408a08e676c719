// Tables: columnar buffers in and out of Kiln.
import CKilnHeader
import KilnCore
import KilnTabular
import KilnTransform

#if canImport(Glibc)
import Glibc
#endif

/// The C view of a table: its columns (single or multi-valued) and C strings of their names.
final class TableHandle {
    private(set) var columns: [OutputColumn] = []
    private(set) var names: [UnsafeMutablePointer<CChar>] = []
    private(set) var rows: Int? = nil

    init() {}

    init(_ columns: [OutputColumn], rows: Int) throws {
        for column in columns { try add(column, rows: rows) }
        self.rows = rows
    }

    deinit { names.forEach { free($0) } }

    func add(_ column: OutputColumn, rows count: Int) throws {
        if let rows, rows != count {
            throw KilnError.shapeMismatch("column '\(column.name)' has \(count) rows, the table has \(rows)")
        }
        guard !columns.contains(where: { $0.name == column.name }) else {
            throw KilnError.invalidArgument("the table already has a column '\(column.name)'")
        }
        columns.append(column)
        names.append(strdup(column.name)!)
        rows = count
    }

    /// The single-valued columns as a `Table` (what analysis and apply read).
    func table() throws -> Table {
        try Table(columns: columns.map { column in
            guard case .single(let single) = column else {
                throw KilnError.unsupported("column '\(column.name)' is multi-valued; only single columns can be inputs")
            }
            return single
        })
    }

    func column(_ index: Int) throws -> OutputColumn {
        guard index >= 0 && index < columns.count else {
            throw KilnError.invalidArgument("column index \(index) is out of range (the table has \(columns.count))")
        }
        return columns[index]
    }
}

func columnTypeCode(_ type: ColumnType) -> Int32 {
    switch type {
    case .float: 1
    case .int: 2
    case .bool: 3
    case .string: 4
    }
}

private func validity(_ valid: UnsafePointer<UInt8>?, _ rows: Int) -> Bitmap {
    guard let valid else { return Bitmap(repeating: true, count: rows) }
    var bitmap = Bitmap()
    bitmap.reserveCapacity(rows)
    for row in 0..<rows { bitmap.append(valid[row] != 0) }
    return bitmap
}

private func addColumn(_ table: OpaquePointer?, _ name: UnsafePointer<CChar>?, _ rows: Int, _ present: Bool,
                       _ make: () throws -> ColumnValues, _ valid: UnsafePointer<UInt8>?) -> Int32 {
    withStatus {
        let handle = try borrowed(table, TableHandle.self, "table")
        let columnName = try string(name, "name")
        guard present || rows == 0 else { throw KilnError(.nullPointer, "values is NULL") }
        guard rows >= 0 && rows < Int(Int32.max) * 64 else { throw KilnError.invalidArgument("rows \(rows) is out of range") }
        let column = try Column(name: columnName, values: try make(), validity: validity(valid, rows))
        try handle.add(.single(column), rows: rows)
    }
}

@_cdecl("kiln_table_create")
public func kiln_table_create(_ out: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    out?.pointee = nil
    return withStatus { try output(out, "out_table").pointee = retained(TableHandle()) }
}

@_cdecl("kiln_table_free")
public func kiln_table_free(_ table: OpaquePointer?) { release(table, TableHandle.self) }

@_cdecl("kiln_table_add_float")
public func kiln_table_add_float(_ table: OpaquePointer?, _ name: UnsafePointer<CChar>?, _ values: UnsafePointer<Double>?,
                                 _ valid: UnsafePointer<UInt8>?, _ rows: Int) -> Int32 {
    addColumn(table, name, rows, values != nil, { .float(Array(UnsafeBufferPointer(start: values, count: rows))) }, valid)
}

@_cdecl("kiln_table_add_int")
public func kiln_table_add_int(_ table: OpaquePointer?, _ name: UnsafePointer<CChar>?, _ values: UnsafePointer<Int64>?,
                               _ valid: UnsafePointer<UInt8>?, _ rows: Int) -> Int32 {
    addColumn(table, name, rows, values != nil, { .int(Array(UnsafeBufferPointer(start: values, count: rows))) }, valid)
}

@_cdecl("kiln_table_add_bool")
public func kiln_table_add_bool(_ table: OpaquePointer?, _ name: UnsafePointer<CChar>?, _ values: UnsafePointer<UInt8>?,
                                _ valid: UnsafePointer<UInt8>?, _ rows: Int) -> Int32 {
    addColumn(table, name, rows, values != nil, { .bool(UnsafeBufferPointer(start: values, count: rows).map { $0 != 0 }) }, valid)
}

@_cdecl("kiln_table_add_string")
public func kiln_table_add_string(_ table: OpaquePointer?, _ name: UnsafePointer<CChar>?, _ bytes: UnsafePointer<CChar>?,
                                  _ offsets: UnsafePointer<Int64>?, _ valid: UnsafePointer<UInt8>?, _ rows: Int) -> Int32 {
    addColumn(table, name, rows, offsets != nil, {
        guard let offsets else { throw KilnError(.nullPointer, "offsets is NULL") }
        let total = Int(offsets[rows])
        guard offsets[0] == 0, total >= 0, total == 0 || bytes != nil else {
            throw KilnError.invalidArgument("offsets must start at 0 and bytes must not be NULL")
        }
        var strings = StringArray()
        strings.reserveCapacity(values: rows, bytes: total)
        let raw = UnsafeRawPointer(bytes ?? UnsafePointer(bitPattern: 1)!).assumingMemoryBound(to: UInt8.self)
        for row in 0..<rows {
            let start = Int(offsets[row])
            let end = Int(offsets[row + 1])
            guard start <= end, end <= total else {
                throw KilnError.invalidArgument("offsets must be ascending and end at offsets[rows] (row \(row): \(start)...\(end))")
            }
            strings.append(UnsafeBufferPointer(start: raw + start, count: end - start))
        }
        return .string(strings)
    }, valid)
}

/// CSV options from optional JSON text.
func csvOptions(_ json: UnsafePointer<CChar>?) throws -> CSVOptions {
    guard let json else { return CSVOptions() }
    return try CSVOptions(json: try JSONValue.parse(String(cString: json)))
}

@_cdecl("kiln_table_read_csv")
public func kiln_table_read_csv(_ path: UnsafePointer<CChar>?, _ options: UnsafePointer<CChar>?,
                                _ out: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    out?.pointee = nil
    return withStatus {
        let target = try output(out, "out_table")
        let table = try CSVReader.read(path: try string(path, "path"), options: try csvOptions(options))
        target.pointee = retained(try TableHandle(table.columns.map { .single($0) }, rows: table.rowCount))
    }
}

@_cdecl("kiln_table_row_count")
public func kiln_table_row_count(_ table: OpaquePointer?, _ out: UnsafeMutablePointer<Int>?) -> Int32 {
    out?.pointee = 0
    return withStatus { try output(out, "out_rows").pointee = try borrowed(table, TableHandle.self, "table").rows ?? 0 }
}

@_cdecl("kiln_table_column_count")
public func kiln_table_column_count(_ table: OpaquePointer?, _ out: UnsafeMutablePointer<Int>?) -> Int32 {
    out?.pointee = 0
    return withStatus { try output(out, "out_columns").pointee = try borrowed(table, TableHandle.self, "table").columns.count }
}

@_cdecl("kiln_table_column_info")
public func kiln_table_column_info(_ table: OpaquePointer?, _ index: Int, _ name: UnsafeMutablePointer<UnsafePointer<CChar>?>?,
                                   _ type: UnsafeMutablePointer<Int32>?, _ width: UnsafeMutablePointer<Int>?) -> Int32 {
    name?.pointee = nil
    type?.pointee = 0
    width?.pointee = 0
    return withStatus {
        let handle = try borrowed(table, TableHandle.self, "table")
        let column = try handle.column(index)
        name?.pointee = UnsafePointer(handle.names[index])
        switch column {
        case .single(let single):
            type?.pointee = columnTypeCode(single.type)
            width?.pointee = 1
        case .multi(let sparse):
            type?.pointee = columnTypeCode(.float)
            width?.pointee = sparse.width
        }
    }
}

private func copyValidity(_ column: Column, _ valid: UnsafeMutablePointer<UInt8>?) {
    guard let valid else { return }
    for row in 0..<column.count { valid[row] = column.isValid(row) ? 1 : 0 }
}

private func single(_ table: OpaquePointer?, _ index: Int, _ type: ColumnType, _ capacity: Int) throws -> Column {
    let handle = try borrowed(table, TableHandle.self, "table")
    guard case .single(let column) = try handle.column(index) else {
        throw KilnError.shapeMismatch("column \(index) is multi-valued float; read it with kiln_table_get_float")
    }
    guard column.type == type else {
        throw KilnError.shapeMismatch("column \(index) ('\(column.name)') is \(column.type.rawValue), not \(type.rawValue)")
    }
    guard capacity >= column.count else {
        throw KilnError.invalidArgument("capacity \(capacity) is below the \(column.count) values of column '\(column.name)'")
    }
    return column
}

@_cdecl("kiln_table_get_float")
public func kiln_table_get_float(_ table: OpaquePointer?, _ index: Int, _ values: UnsafeMutablePointer<Double>?,
                                 _ capacity: Int, _ valid: UnsafeMutablePointer<UInt8>?) -> Int32 {
    withStatus {
        let handle = try borrowed(table, TableHandle.self, "table")
        guard let values else { throw KilnError(.nullPointer, "values is NULL") }
        if case .multi(let sparse) = try handle.column(index) {
            let count = sparse.rowCount * sparse.width
            guard capacity >= count else { throw KilnError.invalidArgument("capacity \(capacity) is below the \(count) values of '\(sparse.name)'") }
            values.initialize(repeating: 0, count: count)
            for row in 0..<sparse.rowCount {
                for entry in sparse.rowStarts[row]..<sparse.rowStarts[row + 1] {
                    values[row * sparse.width + Int(sparse.indices[entry])] = sparse.values[entry]
                }
                valid?[row] = 1
            }
            return
        }
        let column = try single(table, index, .float, capacity)
        guard case .float(let floats) = column.values else { return }
        if !floats.isEmpty { floats.withUnsafeBufferPointer { values.update(from: $0.baseAddress!, count: $0.count) } }
        copyValidity(column, valid)
    }
}

@_cdecl("kiln_table_get_int")
public func kiln_table_get_int(_ table: OpaquePointer?, _ index: Int, _ values: UnsafeMutablePointer<Int64>?,
                               _ capacity: Int, _ valid: UnsafeMutablePointer<UInt8>?) -> Int32 {
    withStatus {
        guard let values else { throw KilnError(.nullPointer, "values is NULL") }
        let column = try single(table, index, .int, capacity)
        guard case .int(let ints) = column.values else { return }
        if !ints.isEmpty { ints.withUnsafeBufferPointer { values.update(from: $0.baseAddress!, count: $0.count) } }
        copyValidity(column, valid)
    }
}

@_cdecl("kiln_table_get_bool")
public func kiln_table_get_bool(_ table: OpaquePointer?, _ index: Int, _ values: UnsafeMutablePointer<UInt8>?,
                                _ capacity: Int, _ valid: UnsafeMutablePointer<UInt8>?) -> Int32 {
    withStatus {
        guard let values else { throw KilnError(.nullPointer, "values is NULL") }
        let column = try single(table, index, .bool, capacity)
        guard case .bool(let flags) = column.values else { return }
        for (row, flag) in flags.enumerated() { values[row] = flag ? 1 : 0 }
        copyValidity(column, valid)
    }
}

@_cdecl("kiln_table_get_string")
public func kiln_table_get_string(_ table: OpaquePointer?, _ index: Int, _ bytes: UnsafeMutablePointer<CChar>?, _ capacity: Int,
                                  _ offsets: UnsafeMutablePointer<Int64>?, _ valid: UnsafeMutablePointer<UInt8>?,
                                  _ byteSize: UnsafeMutablePointer<Int>?) -> Int32 {
    byteSize?.pointee = 0
    return withStatus {
        let column = try single(table, index, .string, Int.max)
        guard case .string(let strings) = column.values else { return }
        try output(byteSize, "out_byte_size").pointee = strings.bytes.count
        guard let bytes else { return }
        guard let offsets else { throw KilnError(.nullPointer, "offsets is NULL") }
        guard capacity >= strings.bytes.count else {
            throw KilnError.invalidArgument("capacity \(capacity) is below the \(strings.bytes.count) bytes of column '\(column.name)'")
        }
        strings.bytes.withUnsafeBytes { UnsafeMutableRawPointer(bytes).copyMemory(from: $0.baseAddress ?? UnsafeRawPointer(bytes), byteCount: $0.count) }
        for (row, offset) in strings.offsets.enumerated() { offsets[row] = Int64(offset) }
        copyValidity(column, valid)
    }
}
