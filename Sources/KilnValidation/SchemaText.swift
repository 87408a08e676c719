import KilnCore
import KilnTabular

/// TFDV's schema in protobuf text format (`schema.pbtxt`), for the core fields: feature name,
/// type (BYTES, INT, FLOAT), presence, string domains, int/float domains (ranges),
/// not_in_environment, default_environment and the drift/skew comparators (infinity_norm,
/// jensen_shannon_divergence). Other fields are ignored on import.
extension Schema {
    public var pbtxt: String {
        var lines: [String] = []
        func quoted(_ text: String) -> String {
            "\"" + text.replacingAll("\\", with: "\\\\").replacingAll("\"", with: "\\\"").replacingAll("\n", with: "\\n") + "\""
        }
        func comparator(_ name: String, _ comparator: Comparator?) {
            guard let comparator else { return }
            let kind: String
            switch comparator.kind {
            case .lInfinity: kind = "infinity_norm"
            case .jensenShannon: kind = "jensen_shannon_divergence"
            default: return  // no TFDV equivalent
            }
            lines.append("  \(name) {")
            lines.append("    \(kind) {")
            lines.append("      threshold: \(comparator.threshold)")
            lines.append("    }")
            lines.append("  }")
        }
        for environment in defaultEnvironments { lines.append("default_environment: \(quoted(environment))") }
        for feature in features {
            lines.append("feature {")
            lines.append("  name: \(quoted(feature.name))")
            let type = switch feature.type {
            case .string: "BYTES"
            case .int, .bool: "INT"
            case .float: "FLOAT"
            }
            lines.append("  type: \(type)")
            if feature.domain != nil { lines.append("  domain: \(quoted(feature.name))") }
            if let range = feature.range {
                lines.append(feature.type == .int ? "  int_domain {" : "  float_domain {")
                if range.lowerBound.isFinite { lines.append("    min: \(feature.type == .int ? String(Int64(range.lowerBound)) : String(range.lowerBound))") }
                if range.upperBound.isFinite { lines.append("    max: \(feature.type == .int ? String(Int64(range.upperBound)) : String(range.upperBound))") }
                lines.append("  }")
            }
            lines.append("  presence {")
            lines.append("    min_fraction: \(feature.minimumFraction)")
            lines.append("    min_count: \(feature.minimumCount)")
            lines.append("  }")
            for environment in feature.notInEnvironments { lines.append("  not_in_environment: \(quoted(environment))") }
            comparator("skew_comparator", feature.skewComparator)
            comparator("drift_comparator", feature.driftComparator)
            lines.append("}")
        }
        for feature in features {
            guard let domain = feature.domain else { continue }
            lines.append("string_domain {")
            lines.append("  name: \(quoted(feature.name))")
            for value in domain { lines.append("  value: \(quoted(value))") }
            lines.append("}")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Reads TFDV's text format (the core fields; others are skipped).
    public init(pbtxt text: String) throws {
        var parser = TextFormatParser(Array(text.utf8))
        let root = try parser.parseMessage(topLevel: true)
        var domains: [String: [String]] = [:]
        for domain in root.messages("string_domain") {
            guard let name = domain.string("name") else { throw KilnError.format("schema.pbtxt: a string_domain has no name") }
            domains[name] = domain.strings("value")
        }
        var features: [FeatureSchema] = []
        for message in root.messages("feature") {
            guard let name = message.string("name") else { throw KilnError.format("schema.pbtxt: a feature has no name") }
            let typeName = message.scalar("type") ?? "BYTES"
            let type: ColumnType
            switch typeName {
            case "BYTES": type = .string
            case "INT": type = .int
            case "FLOAT": type = .float
            default: throw KilnError.unsupported("schema.pbtxt: feature '\(name)' has type \(typeName) (supported: BYTES, INT, FLOAT)")
            }
            var feature = FeatureSchema(name: name, type: type)
            if let presence = message.messages("presence").first {
                feature.minimumFraction = Double(presence.scalar("min_fraction") ?? "0") ?? 0
                feature.minimumCount = Int(presence.scalar("min_count") ?? "0") ?? 0
            }
            if let domainName = message.string("domain") {
                guard let values = domains[domainName] else {
                    throw KilnError.format("schema.pbtxt: feature '\(name)' names string_domain '\(domainName)', which is not defined")
                }
                feature.domain = values
            } else if let inline = message.messages("string_domain").first {
                feature.domain = inline.strings("value")
            }
            if let range = (message.messages("int_domain") + message.messages("float_domain")).first {
                let low = range.scalar("min").flatMap(Double.init) ?? -.infinity
                let high = range.scalar("max").flatMap(Double.init) ?? .infinity
                if low.isFinite || high.isFinite { feature.range = low...high }
            }
            feature.allowNaN = type == .float
            feature.allowInfinity = type == .float
            feature.notInEnvironments = message.strings("not_in_environment")
            func comparator(_ field: String) -> Comparator? {
                guard let outer = message.messages(field).first else { return nil }
                if let norm = outer.messages("infinity_norm").first {
                    return Comparator(kind: .lInfinity, threshold: Double(norm.scalar("threshold") ?? "0") ?? 0)
                }
                if let divergence = outer.messages("jensen_shannon_divergence").first {
                    return Comparator(kind: .jensenShannon, threshold: Double(divergence.scalar("threshold") ?? "0") ?? 0)
                }
                return nil
            }
            feature.driftComparator = comparator("drift_comparator")
            feature.skewComparator = comparator("skew_comparator")
            features.append(feature)
        }
        self.init(features: features)
        defaultEnvironments = root.strings("default_environment")
        minimumExamples = 0
    }
}

/// A protobuf text-format message: fields in order, each a scalar (identifier or number),
/// a string, or a nested message.
struct TextMessage {
    enum Value {
        case scalar(String)
        case string(String)
        case message(TextMessage)
    }
    var fields: [(String, Value)] = []

    func messages(_ name: String) -> [TextMessage] {
        fields.compactMap { if $0.0 == name, case .message(let message) = $0.1 { return message } else { return nil } }
    }

    func strings(_ name: String) -> [String] {
        fields.compactMap { if $0.0 == name, case .string(let text) = $0.1 { return text } else { return nil } }
    }

    func string(_ name: String) -> String? { strings(name).first }

    func scalar(_ name: String) -> String? {
        fields.lazy.compactMap { if $0.0 == name, case .scalar(let text) = $0.1 { return text } else { return nil } }.first
    }
}

/// A small parser of the protobuf text format (what `schema.pbtxt` files use).
struct TextFormatParser {
    let bytes: [UInt8]
    var position = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    func error(_ message: String) -> KilnError {
        let line = bytes[..<min(position, bytes.count)].filter { $0 == 0x0A }.count + 1
        return KilnError.format("schema.pbtxt line \(line): \(message)")
    }

    mutating func skipSpaceAndComments() {
        while position < bytes.count {
            let byte = bytes[position]
            if byte == 0x23 {
                while position < bytes.count && bytes[position] != 0x0A { position += 1 }
            } else if byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D || byte == 0x2C || byte == 0x3B {
                position += 1
            } else {
                return
            }
        }
    }

    mutating func identifier() throws -> String {
        let start = position
        while position < bytes.count, Self.isIdentifierByte(bytes[position]) { position += 1 }
        guard position > start else { throw error("expected a field name") }
        return String(decoding: bytes[start..<position], as: UTF8.self)
    }

    static func isIdentifierByte(_ byte: UInt8) -> Bool {
        (byte >= 0x30 && byte <= 0x39) || (byte | 0x20 >= 0x61 && byte | 0x20 <= 0x7A) || byte == 0x5F || byte == 0x2E || byte == 0x2D || byte == 0x2B
    }

    mutating func parseMessage(topLevel: Bool) throws -> TextMessage {
        var message = TextMessage()
        while true {
            skipSpaceAndComments()
            if position >= bytes.count {
                if topLevel { return message }
                throw error("unexpected end of input inside a message")
            }
            if bytes[position] == 0x7D {  // }
                guard !topLevel else { throw error("unexpected '}'") }
                position += 1
                return message
            }
            let name = try identifier()
            skipSpaceAndComments()
            var sawColon = false
            if position < bytes.count && bytes[position] == 0x3A {
                position += 1
                sawColon = true
                skipSpaceAndComments()
            }
            guard position < bytes.count else { throw error("expected a value for '\(name)'") }
            let byte = bytes[position]
            if byte == 0x7B || byte == 0x3C {  // { or <
                position += 1
                message.fields.append((name, .message(try parseMessage(topLevel: false))))
            } else if byte == 0x22 || byte == 0x27 {
                message.fields.append((name, .string(try quotedString())))
            } else {
                guard sawColon else { throw error("expected ':' after '\(name)'") }
                message.fields.append((name, .scalar(try identifier())))
            }
        }
    }

    mutating func quotedString() throws -> String {
        let quote = bytes[position]
        position += 1
        var output: [UInt8] = []
        while position < bytes.count {
            let byte = bytes[position]
            position += 1
            if byte == quote { return String(decoding: output, as: UTF8.self) }
            if byte == 0x5C, position < bytes.count {
                let escaped = bytes[position]
                position += 1
                switch escaped {
                case 0x6E: output.append(0x0A)
                case 0x74: output.append(0x09)
                case 0x72: output.append(0x0D)
                default: output.append(escaped)
                }
                continue
            }
            output.append(byte)
        }
        throw error("unterminated string")
    }
}

extension String {
    func replacingAll(_ target: String, with replacement: String) -> String {
        split(separator: target, omittingEmptySubsequences: false).joined(separator: replacement)
    }
}
