import KilnCore

/// Typed attribute access with errors that name the node and the attribute.
extension Node {
    func int(_ name: String, default value: Int? = nil) throws -> Int {
        switch attributes[name] {
        case .int(let v): return v
        case nil: if let value { return value }
        default: break
        }
        throw missing(name, "an integer")
    }

    func float(_ name: String, default value: Float? = nil) throws -> Float {
        switch attributes[name] {
        case .float(let v): return v
        case .int(let v): return Float(v)
        case nil: if let value { return value }
        default: break
        }
        throw missing(name, "a float")
    }

    func string(_ name: String, default value: String? = nil) throws -> String {
        switch attributes[name] {
        case .string(let v): return v
        case nil: if let value { return value }
        default: break
        }
        throw missing(name, "a string")
    }

    func ints(_ name: String, default value: [Int]? = nil) throws -> [Int] {
        switch attributes[name] {
        case .ints(let v): return v
        case .int(let v): return [v]
        case nil: if let value { return value }
        default: break
        }
        throw missing(name, "a list of integers")
    }

    func floats(_ name: String, default value: [Float]? = nil) throws -> [Float] {
        switch attributes[name] {
        case .floats(let v): return v
        case nil: if let value { return value }
        default: break
        }
        throw missing(name, "a list of floats")
    }

    func hasAttribute(_ name: String) -> Bool { attributes[name] != nil }

    private func missing(_ attribute: String, _ kind: String) -> KilnError {
        attributes[attribute] == nil
            ? KilnError.format("\(label): required attribute '\(attribute)' is missing")
            : KilnError.format("\(label): attribute '\(attribute)' must be \(kind)")
    }
}
