import KilnCore
import KilnTabular

extension TransformGraph {
    /// A batch built from JSON records (`{"age": 54, "sex": "F"}`), typed by the graph's input
    /// schema: a missing key or `null` is a missing value; a number for a string column or text
    /// for a numeric one is an error naming the instance and the field.
    public func table(fromInstances instances: [JSONValue]) throws -> Table {
        let records = try instances.enumerated().map { index, instance -> [(String, JSONValue)] in
            guard let members = instance.objectMembers else {
                throw KilnError.invalidArgument("instances[\(index)]: expected an object of feature values, got \(instance.kindName)")
            }
            return members
        }
        let columns = try inputSchema.map { field -> Column in
            var validity = Bitmap()
            func value(_ index: Int) -> JSONValue? {
                guard let value = records[index].first(where: { $0.0 == field.name })?.1 else { return nil }
                if case .null = value { return nil }
                return value
            }
            func mismatch(_ index: Int, _ value: JSONValue) -> KilnError {
                KilnError.invalidArgument("instances[\(index)].\(field.name): expected \(field.type.rawValue), got \(value.kindName) \(value.text)")
            }
            let values: ColumnValues
            switch field.type {
            case .float:
                values = .float(try records.indices.map { index in
                    guard let item = value(index) else { validity.append(false); return 0 }
                    guard let number = item.doubleValue else { throw mismatch(index, item) }
                    validity.append(true)
                    return number
                })
            case .int:
                values = .int(try records.indices.map { index in
                    guard let item = value(index) else { validity.append(false); return 0 }
                    guard let number = item.intValue else { throw mismatch(index, item) }
                    validity.append(true)
                    return Int64(number)
                })
            case .bool:
                values = .bool(try records.indices.map { index in
                    guard let item = value(index) else { validity.append(false); return false }
                    guard let flag = item.boolValue else { throw mismatch(index, item) }
                    validity.append(true)
                    return flag
                })
            case .string:
                var strings = StringArray()
                for index in records.indices {
                    guard let item = value(index) else {
                        validity.append(false)
                        strings.appendEmpty()
                        continue
                    }
                    guard let text = item.stringValue else { throw mismatch(index, item) }
                    validity.append(true)
                    strings.append(text)
                }
                values = .string(strings)
            }
            return try Column(name: field.name, values: values, validity: validity)
        }
        return try Table(columns: columns)
    }

    /// Transforms one instance; identical to the same row of a batch apply (it is one).
    public func apply(instance: JSONValue) throws -> JSONValue {
        try apply(try table(fromInstances: [instance])).row(0)
    }
}

extension TransformedTable {
    /// Row `row` as a JSON object: missing values are `null`, multi-valued outputs dense arrays.
    public func row(_ row: Int) -> JSONValue {
        .object(outputs.map { output in
            switch output {
            case .single(let column):
                guard column.isValid(row) else { return (column.name, .null) }
                switch column.values {
                case .float(let values): return (column.name, .double(values[row]))
                case .int(let values): return (column.name, .int(Int(values[row])))
                case .bool(let values): return (column.name, .bool(values[row]))
                case .string(let values): return (column.name, .string(values[row]))
                }
            case .multi(let sparse):
                return (sparse.name, .array(sparse.dense(row).map { .double($0) }))
            }
        })
    }
}
