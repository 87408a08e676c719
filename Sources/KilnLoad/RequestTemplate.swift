import KilnCore
import KilnTabular
import NIOCore

/// Where requests go: an `http://host[:port]` origin (plain HTTP/1.1).
public struct LoadTarget: Sendable, Equatable {
    public var host: String
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// Splits `http://host[:port][/path?query]` into the origin and the path (`/` when absent).
    public static func parse(url: String) throws -> (target: LoadTarget, path: String) {
        guard url.hasPrefix("http://") else {
            if url.hasPrefix("https://") { throw KilnError.unsupported("https is not supported: \(url) (use http://)") }
            throw KilnError.invalidArgument("'\(url)' is not an http:// URL")
        }
        let rest = url.dropFirst("http://".count)
        let authorityEnd = rest.firstIndex { $0 == "/" || $0 == "?" } ?? rest.endIndex
        let authority = rest[..<authorityEnd]
        var path = String(rest[authorityEnd...])
        if path.isEmpty { path = "/" } else if path.hasPrefix("?") { path = "/" + path }
        var host = String(authority)
        var port = 80
        if authority.hasPrefix("[") {  // [::1]:8080
            guard let close = authority.firstIndex(of: "]") else { throw KilnError.invalidArgument("bad IPv6 address in \(url)") }
            host = String(authority[authority.index(after: authority.startIndex)..<close])
            let after = authority[authority.index(after: close)...]
            if after.hasPrefix(":") {
                guard let value = Int(after.dropFirst()), (1...65535).contains(value) else { throw KilnError.invalidArgument("bad port in \(url)") }
                port = value
            }
        } else if let colon = authority.lastIndex(of: ":") {
            host = String(authority[..<colon])
            guard let value = Int(authority[authority.index(after: colon)...]), (1...65535).contains(value) else {
                throw KilnError.invalidArgument("bad port in \(url)")
            }
            port = value
        }
        guard !host.isEmpty else { throw KilnError.invalidArgument("no host in \(url)") }
        return (LoadTarget(host: host, port: port), path)
    }

    /// The value of the Host header.
    var hostHeader: String {
        let name = host.contains(":") ? "[\(host)]" : host
        return port == 80 ? name : "\(name):\(port)"
    }
}

/// Rows of text that fill `${column}` placeholders.
public struct RequestData: Sendable {
    public let columns: [String]
    public let rows: [[String]]

    public init(columns: [String], rows: [[String]]) throws {
        guard !rows.isEmpty else { throw KilnError.invalidArgument("the data file has no rows") }
        self.columns = columns
        self.rows = rows
    }

    /// Every column as text, exactly as written in the file.
    public init(csvPath: String) throws {
        let header = try CSVReader(path: csvPath)
        var options = CSVOptions()
        options.missingTokens = []
        options.threads = 1
        for field in header.fileSchema { options.types[field.name] = .string }
        let table = try CSVReader.read(path: csvPath, options: options)
        let columns = table.columns
        try self.init(columns: columns.map(\.name),
                      rows: (0..<table.rowCount).map { row in columns.map { $0.text(row) } })
    }
}

/// One named request: method, path, headers and body, any of which may hold `${column}`
/// placeholders filled from the data rows.
public struct RequestTemplate: Sendable {
    public var name: String
    public var method: String
    public var path: String
    public var headers: [(String, String)]
    public var body: [UInt8]
    /// The share of requests this one gets, relative to the others' weights.
    public var weight: Int

    public init(name: String? = nil, method: String = "GET", path: String = "/", headers: [(String, String)] = [],
                body: [UInt8] = [], weight: Int = 1) {
        self.name = name ?? "\(method) \(path)"
        self.method = method
        self.path = path
        self.headers = headers
        self.body = body
        self.weight = weight
    }

    var hasPlaceholders: Bool {
        Self.placeholders(in: path).count + headers.reduce(0) { $0 + Self.placeholders(in: $1.1).count }
            + Self.placeholders(in: String(decoding: body, as: UTF8.self)).count > 0
    }

    func checkPlaceholders(columns: [String]) throws {
        guard weight >= 1 else { throw KilnError.invalidArgument("request '\(name)': weight must be at least 1") }
        guard !method.isEmpty, method.allSatisfy({ $0.isLetter && $0.isUppercase }) else {
            throw KilnError.invalidArgument("request '\(name)': '\(method)' is not an HTTP method")
        }
        guard path.hasPrefix("/") else { throw KilnError.invalidArgument("request '\(name)': the path must start with /") }
        for (header, value) in headers {
            guard !header.isEmpty, !header.contains(where: { $0 == ":" || $0 == "\r" || $0 == "\n" || $0 == " " }),
                  !value.contains(where: { $0 == "\r" || $0 == "\n" }) else {
                throw KilnError.invalidArgument("request '\(name)': bad header '\(header): \(value)'")
            }
        }
        let used = Self.placeholders(in: path) + headers.flatMap { Self.placeholders(in: $0.1) }
            + Self.placeholders(in: String(decoding: body, as: UTF8.self))
        for column in used where !columns.contains(column) {
            throw KilnError.invalidArgument(columns.isEmpty
                ? "request '\(name)' uses ${\(column)} but no data file was given"
                : "request '\(name)' uses ${\(column)}, which is not a column of the data file (columns: \(columns.joined(separator: ", ")))")
        }
    }

    /// The bytes of the request, placeholders filled from `row`.
    func encoded(target: LoadTarget, row: [String: String]?) -> [UInt8] {
        let fill = { (text: String) in row.map { Self.fill(text, $0) } ?? text }
        let body = row == nil ? self.body : Array(Self.fill(String(decoding: self.body, as: UTF8.self), row!).utf8)
        var head = "\(method) \(fill(path)) HTTP/1.1\r\nHost: \(target.hostHeader)\r\n"
        var hasUserAgent = false
        for (header, value) in headers {
            let lower = header.lowercased()
            if lower == "content-length" || lower == "host" { continue }
            if lower == "user-agent" { hasUserAgent = true }
            head += "\(header): \(fill(value))\r\n"
        }
        if !hasUserAgent { head += "User-Agent: kiln-load/\(KilnVersion.string)\r\n" }
        if !body.isEmpty || method == "POST" || method == "PUT" || method == "PATCH" {
            head += "Content-Length: \(body.count)\r\n"
        }
        head += "\r\n"
        return Array(head.utf8) + body
    }

    static func placeholders(in text: String) -> [String] {
        var names: [String] = []
        forEachPart(of: text) { literal, name in if let name { names.append(name) } }
        return names
    }

    static func fill(_ text: String, _ row: [String: String]) -> String {
        guard text.contains("${") else { return text }
        var result = ""
        forEachPart(of: text) { literal, name in
            result += literal
            if let name { result += row[name] ?? "" }
        }
        return result
    }

    /// Splits `a${x}b` into (`a`, `x`), (`b`, nil).
    private static func forEachPart(of text: String, _ body: (Substring, String?) -> Void) {
        var rest = text[...]
        while let dollar = rest.firstIndex(of: "$") {
            let afterDollar = rest.index(after: dollar)
            guard afterDollar < rest.endIndex, rest[afterDollar] == "{" else {
                body(rest[...dollar], nil)
                rest = rest[afterDollar...]
                continue
            }
            let nameStart = rest.index(after: afterDollar)
            guard let close = rest[nameStart...].firstIndex(of: "}") else { break }
            body(rest[..<dollar], String(rest[nameStart..<close]))
            rest = rest[rest.index(after: close)...]
        }
        body(rest, nil)
    }
}

/// The bytes of every request a run sends, encoded once: request `i` is template
/// `order[i % order.count]`; the n-th request of a template takes data row `n % rows`.
struct EncodedRequests: Sendable {
    /// Template indices in a smooth weighted round-robin cycle (exact proportions).
    let order: [Int]
    /// For each position of the cycle, how many requests of its template come before it in the cycle.
    let rank: [Int]
    /// Requests per template in one cycle.
    let perCycle: [Int]
    /// Per template: one buffer when it has no placeholders, else one per data row.
    let buffers: [[ByteBuffer]]

    init(plan: LoadPlan) {
        let templates = plan.requests
        let weights = templates.map(\.weight)
        let divisor = weights.reduce(0) { Self.gcd($0, $1) }
        let reduced = weights.map { $0 / max(divisor, 1) }
        var order: [Int] = []
        var rank: [Int] = []
        var seen = [Int](repeating: 0, count: reduced.count)
        var current = [Int](repeating: 0, count: reduced.count)
        let total = reduced.reduce(0, +)
        for _ in 0..<min(total, 1 << 16) {
            for index in current.indices { current[index] += reduced[index] }
            let chosen = current.indices.max { current[$0] < current[$1] }!
            current[chosen] -= total
            order.append(chosen)
            rank.append(seen[chosen])
            seen[chosen] += 1
        }
        self.order = order
        self.rank = rank
        perCycle = seen
        let allocator = ByteBufferAllocator()
        buffers = templates.map { template in
            if let data = plan.data, template.hasPlaceholders {
                return data.rows.map { values in
                    let row = Dictionary(zip(data.columns, values), uniquingKeysWith: { first, _ in first })
                    return allocator.buffer(bytes: template.encoded(target: plan.target, row: row))
                }
            }
            return [allocator.buffer(bytes: template.encoded(target: plan.target, row: nil))]
        }
    }

    func template(_ index: Int) -> Int { order[index % order.count] }

    /// The bytes of request `index` (whose template is `template(index)`).
    func buffer(template: Int, index: Int) -> ByteBuffer {
        let options = buffers[template]
        guard options.count > 1 else { return options[0] }
        let occurrence = index / order.count * perCycle[template] + rank[index % order.count]
        return options[occurrence % options.count]
    }

    private static func gcd(_ a: Int, _ b: Int) -> Int { b == 0 ? a : gcd(b, a % b) }
}
