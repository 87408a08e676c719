import KilnCore
import KilnTabular

/// The common predict body — `{"instances": <nested arrays of numbers>}` or the same under
/// `"inputs"` — scanned straight from its bytes into doubles: no JSON tree, no allocation per
/// number, numbers parsed exactly (Clinger / Eisel–Lemire). Any other shape (objects, strings,
/// other keys, ragged arrays, a malformed number) gives nil, and the general JSON path handles
/// the body and words the error.
struct TensorBody {
    let key: String
    let values: [Double]
    let shape: [Int]

    init?(_ bytes: [UInt8]) {
        guard let parsed = bytes.withUnsafeBufferPointer({ buffer -> (String, [Double], [Int])? in
            var scanner = Scanner(buffer)
            return scanner.body()
        }) else { return nil }
        (key, values, shape) = parsed
    }

    private struct Scanner {
        let bytes: UnsafeBufferPointer<UInt8>
        var index = 0
        var values: [Double] = []
        /// Elements per array at each depth, fixed by the first array closed there.
        var sizes: [Int?] = []
        var leafDepth: Int? = nil

        init(_ bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

        mutating func body() -> (String, [Double], [Int])? {
            skipSpace()
            guard take(UInt8(ascii: "{")) else { return nil }
            skipSpace()
            guard take(UInt8(ascii: "\"")) else { return nil }
            let start = index
            while index < bytes.count, bytes[index] != UInt8(ascii: "\""), bytes[index] != UInt8(ascii: "\\") { index += 1 }
            let key = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
            guard key == "instances" || key == "inputs", take(UInt8(ascii: "\"")) else { return nil }
            skipSpace()
            guard take(UInt8(ascii: ":")) else { return nil }
            skipSpace()
            values.reserveCapacity(bytes.count / 4)
            guard array(depth: 0) else { return nil }
            skipSpace()
            guard take(UInt8(ascii: "}")) else { return nil }
            skipSpace()
            guard index == bytes.count, let leafDepth, sizes.count == leafDepth else { return nil }
            let shape = sizes.compactMap { $0 }
            guard shape.count == leafDepth else { return nil }
            return (key, values, shape)
        }

        mutating func array(depth: Int) -> Bool {
            guard take(UInt8(ascii: "[")) else { return false }
            if sizes.count <= depth { sizes.append(nil) }
            var count = 0
            skipSpace()
            if take(UInt8(ascii: "]")) { return false }  // empty arrays: the general path says what is wrong
            while true {
                skipSpace()
                guard index < bytes.count else { return false }
                if bytes[index] == UInt8(ascii: "[") {
                    guard leafDepth == nil || depth + 1 < leafDepth!, array(depth: depth + 1) else { return false }
                } else {
                    if leafDepth == nil { leafDepth = depth + 1 }
                    guard leafDepth == depth + 1, number() else { return false }
                }
                count += 1
                skipSpace()
                if take(UInt8(ascii: ",")) { continue }
                guard take(UInt8(ascii: "]")) else { return false }
                break
            }
            if let size = sizes[depth] { return size == count }
            sizes[depth] = count
            return true
        }

        /// Exact powers of ten 10^0 ... 10^22, for the fast path of `number`.
        let powers: [Double] = TensorBody.powersOfTen

        mutating func number() -> Bool {
            if let value = shortDecimal() {
                values.append(value)
                return true
            }
            return anyNumber()
        }

        /// The common number, `-?digits[.digits]` with at most 19 digits and no exponent, parsed
        /// in the same pass that finds its end: a mantissa of at most 2^53 divided by an exact power
        /// of ten is the correctly rounded double (Clinger's fast path). Nil (index unmoved) for
        /// anything else, which `anyNumber` handles.
        mutating func shortDecimal() -> Double? {
            var position = index
            let count = bytes.count
            let negative = position < count && bytes[position] == UInt8(ascii: "-")
            if negative { position &+= 1 }
            var mantissa: UInt64 = 0, digits = 0, fraction = 0
            let integerStart = position
            while position < count, case let digit = bytes[position] &- 0x30, digit < 10 {
                mantissa = mantissa &* 10 &+ UInt64(digit)
                digits &+= 1
                position &+= 1
            }
            // JSON: at least one digit, and no leading zero before another digit.
            guard digits > 0, bytes[integerStart] != 0x30 || digits == 1 else { return nil }
            if position < count, bytes[position] == UInt8(ascii: ".") {
                position &+= 1
                while position < count, case let digit = bytes[position] &- 0x30, digit < 10 {
                    mantissa = mantissa &* 10 &+ UInt64(digit)
                    digits &+= 1
                    fraction &+= 1
                    position &+= 1
                }
                guard fraction > 0 else { return nil }
            }
            // The token must end here (an exponent, a second point or a sign goes the long way).
            if position < count {
                let next = bytes[position]
                guard next != UInt8(ascii: "e"), next != UInt8(ascii: "E"), next != UInt8(ascii: "."),
                      next != UInt8(ascii: "+"), next != UInt8(ascii: "-") else { return nil }
            }
            guard digits <= 19, mantissa <= 1 << 53, fraction <= 22 else { return nil }
            index = position
            let value = Double(mantissa) / powers[fraction]
            return negative ? -value : value
        }

        /// Any JSON number, `-?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?`, checked against the
        /// grammar and then parsed exactly; false for anything else.
        mutating func anyNumber() -> Bool {
            let start = index, count = bytes.count
            func digits() -> Int {
                let first = index
                while index < count, bytes[index] &- 0x30 < 10 { index += 1 }
                return index - first
            }
            if index < count, bytes[index] == UInt8(ascii: "-") { index += 1 }
            let integerStart = index
            let integerDigits = digits()
            guard integerDigits > 0, bytes[integerStart] != 0x30 || integerDigits == 1 else { return false }
            if index < count, bytes[index] == UInt8(ascii: ".") {
                index += 1
                guard digits() > 0 else { return false }
            }
            if index < count, bytes[index] | 0x20 == UInt8(ascii: "e") {
                index += 1
                if index < count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
                guard digits() > 0 else { return false }
            }
            guard let value = TextNumbers.parseDouble(UnsafeBufferPointer(rebasing: bytes[start..<index])), value.isFinite else { return false }
            values.append(value)
            return true
        }

        mutating func skipSpace() {
            while index < bytes.count, bytes[index] == 0x20 || bytes[index] == 0x0A || bytes[index] == 0x0D || bytes[index] == 0x09 { index += 1 }
        }

        mutating func take(_ byte: UInt8) -> Bool {
            guard index < bytes.count, bytes[index] == byte else { return false }
            index += 1
            return true
        }
    }
}

extension TensorBody {
    static let powersOfTen: [Double] = (0...22).map { exponent in
        var value = 1.0
        for _ in 0..<exponent { value *= 10 }
        return value
    }
}

extension Predict {
    /// The fast path of `run` for a one-input model: nil when the body is not a plain tensor.
    static func runTensorBody(_ bytes: [UInt8], on served: ServedModel) async throws -> (response: JSONValue, instances: Int?)? {
        let inputs = served.model.inputs
        guard inputs.count == 1, served.transform == nil, let body = TensorBody(bytes) else { return nil }
        let tensor = try TensorJSON.tensor(body.values, shape: body.shape, info: inputs[0])
        let results = try await served.infer([inputs[0].name: tensor])
        if body.key == "instances" { return (try rows(results, count: body.shape[0], served), body.shape[0]) }
        return (try columns(results, served), nil)
    }
}
