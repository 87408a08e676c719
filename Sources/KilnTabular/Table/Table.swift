import KilnCore

/// A name and a type: one field of a table's schema.
public struct Field: Sendable, Equatable, Codable {
    public var name: String
    public var type: ColumnType

    public init(name: String, type: ColumnType) {
        self.name = name
        self.type = type
    }
}

/// Columns of equal length: a whole table, or one record batch of a stream.
public struct Table: Sendable, Equatable {
    public private(set) var columns: [Column]
    public let rowCount: Int

    public init(columns: [Column]) throws {
        let rowCount = columns.first?.count ?? 0
        var seen = Set<String>()
        for column in columns {
            guard column.count == rowCount else {
                throw KilnError.shapeMismatch(
                    "column '\(column.name)' has \(column.count) rows, column '\(columns[0].name)' has \(rowCount)")
            }
            guard seen.insert(column.name).inserted else {
                throw KilnError.invalidArgument("duplicate column name '\(column.name)'")
            }
        }
        self.columns = columns
        self.rowCount = rowCount
    }

    /// The memory the columns' buffers hold.
    public var byteCount: Int { columns.reduce(0) { $0 + $1.byteCount } }

    public var schema: [Field] { columns.map { Field(name: $0.name, type: $0.type) } }

    public func columnIndex(_ name: String) -> Int? { columns.firstIndex { $0.name == name } }

    /// The column called `name`; the error lists the columns there are, with their types.
    public func column(_ name: String) throws -> Column {
        guard let index = columnIndex(name) else {
            throw KilnError(.notFound, "no column '\(name)'; the table has \(describeFields(schema))")
        }
        return columns[index]
    }

    /// Concatenates batches with the same schema.
    public static func concatenate(_ batches: [Table]) throws -> Table {
        guard var columns = batches.first?.columns else { return try Table(columns: []) }
        for batch in batches.dropFirst() {
            guard batch.schema == batches[0].schema else {
                throw KilnError.shapeMismatch("batches have different schemas")
            }
            for index in columns.indices { try columns[index].append(batch.columns[index]) }
        }
        return try Table(columns: columns)
    }
}

/// "'age' (int), 'sex' (string)" — for error messages that list what is available.
public func describeFields(_ fields: [Field]) -> String {
    fields.isEmpty ? "no columns" : fields.map { "'\($0.name)' (\($0.type.rawValue))" }.joined(separator: ", ")
}
