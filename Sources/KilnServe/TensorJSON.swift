import KilnCore
import KilnNN

/// Tensors to and from TensorFlow Serving's JSON (nested arrays of numbers).
enum TensorJSON {
    /// A nested array of numbers as flat values and a shape (rectangular, or an error that says
    /// where it is not).
    static func flatten(_ value: JSONValue, what: String) throws -> (values: [Double], shape: [Int]) {
        var shape: [Int] = []
        var probe = value
        while case .array(let items) = probe {
            shape.append(items.count)
            guard let first = items.first else { break }
            probe = first
        }
        var values: [Double] = []
        values.reserveCapacity(shape.reduce(1, *))
        func walk(_ node: JSONValue, depth: Int) throws {
            if depth == shape.count {
                guard let number = node.doubleValue else {
                    throw KilnError.invalidArgument("\(what): expected numbers, found \(node.kindName)")
                }
                values.append(number)
                return
            }
            guard case .array(let items) = node, items.count == shape[depth] else {
                throw KilnError.invalidArgument("\(what): the nested lists are not rectangular (expected \(shape[depth]) items at depth \(depth + 1))")
            }
            for item in items { try walk(item, depth: depth + 1) }
        }
        try walk(value, depth: 0)
        return (values, shape)
    }

    /// A model input from flat values: checks the rank and the fixed dimensions, converts to the
    /// input's dtype.
    static func tensor(_ values: [Double], shape: [Int], info: TensorInfo) throws -> Tensor {
        try check(shape, info)
        switch info.dtype {
        case .float32: return try Tensor(shape: shape, values: values.map { Float($0) })
        case .int64:
            guard values.allSatisfy({ $0 == $0.rounded() }) else { throw KilnError.invalidArgument("input '\(info.name)': expected integers") }
            return try Tensor(shape: shape, values: values.map { Int64($0) })
        case .int32:
            guard values.allSatisfy({ $0 == $0.rounded() }) else { throw KilnError.invalidArgument("input '\(info.name)': expected integers") }
            return try Tensor(shape: shape, values: values.map { Int32($0) })
        case .uint8:
            guard values.allSatisfy({ $0 == $0.rounded() && $0 >= 0 && $0 <= 255 }) else {
                throw KilnError.invalidArgument("input '\(info.name)': expected integers 0...255")
            }
            return try Tensor(shape: shape, values: values.map { UInt8($0) })
        }
    }

    /// Fails unless `shape` has the input's rank and fixed dimensions.
    static func check(_ shape: [Int], _ info: TensorInfo) throws {
        let expected = info.shape.map { dimension -> String in
            if case .fixed(let size) = dimension { return String(size) }
            return "N"
        }.joined(separator: ", ")
        guard shape.count == info.shape.count, zip(shape, info.shape).allSatisfy({ size, dimension in
            if case .fixed(let fixed) = dimension { return fixed == size }
            return true
        }) else {
            throw KilnError.shapeMismatch("input '\(info.name)': expected shape [\(expected)], got [\(shape.map(String.init).joined(separator: ", "))]")
        }
    }

    /// Element `index` along the first axis (or the whole tensor when `index` is nil) as nested arrays.
    static func json(_ tensor: Tensor, index: Int? = nil) throws -> JSONValue {
        let values: [JSONValue]
        switch tensor.dtype {
        case .float32: values = try tensor.scalars(as: Float.self).map { .double(Double(String($0)) ?? Double($0)) }
        case .int64: values = try tensor.scalars(as: Int64.self).map { .int(Int($0)) }
        case .int32: values = try tensor.scalars(as: Int32.self).map { .int(Int($0)) }
        case .uint8: values = try tensor.scalars(as: UInt8.self).map { .int(Int($0)) }
        }
        var shape = tensor.shape
        var slice = values[...]
        if let index, !shape.isEmpty {
            let size = shape.dropFirst().reduce(1, *)
            slice = values[(index * size)..<((index + 1) * size)]
            shape.removeFirst()
        }
        func nest(_ items: ArraySlice<JSONValue>, _ dims: ArraySlice<Int>) -> JSONValue {
            guard let first = dims.first else { return items.first ?? .null }
            let size = dims.dropFirst().reduce(1, *)
            return .array((0..<first).map { nest(items[(items.startIndex + $0 * size)..<(items.startIndex + ($0 + 1) * size)], dims.dropFirst()) })
        }
        return nest(slice, shape[...])
    }
}
