/// Reads one JSON object of a spec, graph or pipeline, with errors that name the field
/// (`features[2].num_buckets: ...`) and a check that no unknown field was given.
public struct SpecObject {
    public let path: String
    private let members: [(String, JSONValue)]
    private var used: Set<String> = []

    public init(_ value: JSONValue, path: String) throws {
        guard let members = value.objectMembers else {
            throw KilnError.invalidArgument("\(path): expected an object, got \(value.kindName)")
        }
        self.members = members
        self.path = path
    }

    public func error(_ field: String, _ message: String) -> KilnError {
        KilnError.invalidArgument("\(path).\(field): \(message)")
    }

    public mutating func value(_ field: String) -> JSONValue? {
        used.insert(field)
        guard let value = members.first(where: { $0.0 == field })?.1 else { return nil }
        if case .null = value { return nil }
        return value
    }

    public mutating func string(_ field: String) throws -> String? {
        guard let value = value(field) else { return nil }
        guard let string = value.stringValue else { throw error(field, "expected a string, got \(value.kindName)") }
        return string
    }

    public mutating func requiredString(_ field: String) throws -> String {
        guard let string = try string(field) else { throw error(field, "is required") }
        return string
    }

    public mutating func double(_ field: String) throws -> Double? {
        guard let value = value(field) else { return nil }
        guard let number = value.doubleValue else { throw error(field, "expected a number, got \(value.kindName)") }
        return number
    }

    public mutating func int(_ field: String, minimum: Int = .min) throws -> Int? {
        guard let value = value(field) else { return nil }
        guard let number = value.intValue else { throw error(field, "expected an integer, got \(value.text)") }
        guard number >= minimum else { throw error(field, "must be at least \(minimum), got \(number)") }
        return number
    }

    public mutating func bool(_ field: String) throws -> Bool? {
        guard let value = value(field) else { return nil }
        guard let flag = value.boolValue else { throw error(field, "expected true or false, got \(value.kindName)") }
        return flag
    }

    public mutating func doubles(_ field: String) throws -> [Double]? {
        guard let value = value(field) else { return nil }
        guard let array = value.arrayValue else { throw error(field, "expected an array of numbers, got \(value.kindName)") }
        return try array.enumerated().map { index, element in
            guard let number = element.doubleValue else { throw error("\(field)[\(index)]", "expected a number") }
            return number
        }
    }

    public mutating func strings(_ field: String) throws -> [String]? {
        guard let value = value(field) else { return nil }
        guard let array = value.arrayValue else { throw error(field, "expected an array of strings, got \(value.kindName)") }
        return try array.enumerated().map { index, element in
            guard let string = element.stringValue else { throw error("\(field)[\(index)]", "expected a string") }
            return string
        }
    }

    /// The fields given, in order.
    public var keys: [String] { members.map(\.0) }

    public mutating func requiredInt(_ field: String) throws -> Int {
        guard let number = try int(field) else { throw error(field, "is required") }
        return number
    }

    /// Fails on a field not in `known`.
    public func rejectUnknownFields(known: Set<String>) throws {
        for key in keys where !known.contains(key) {
            throw KilnError.invalidArgument("\(path): unknown field '\(key)' (known: \(known.sorted().joined(separator: ", ")))")
        }
    }

    /// Fails on a field nobody asked for (a typo would otherwise be silently ignored).
    public func rejectUnknownFields(_ allowedExtras: Set<String> = []) throws {
        for (key, _) in members where !used.contains(key) && !allowedExtras.contains(key) {
            throw KilnError.invalidArgument("\(path): unknown field '\(key)'")
        }
    }
}
