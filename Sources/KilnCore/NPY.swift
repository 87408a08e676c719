/// NumPy's `.npy` format (versions 1.0–3.0): how the CLI and tests exchange tensors with numpy.
///
/// Reads and writes float32 (`<f4`), uint8 (`|u1`), int32 (`<i4`) and int64 (`<i8`) arrays in C
/// order, little-endian. Anything else (big-endian, Fortran order, other dtypes, a truncated
/// file) is a clear `KilnError`, never a guess.
public enum NPY {
    static let magic: [UInt8] = [0x93] + Array("NUMPY".utf8)

    public static func read(_ path: String) throws -> Tensor {
        do { return try decode(try FileIO.read(path)) } catch let error as KilnError where error.code == .format {
            throw KilnError.format("\(path): \(error.message)")
        } catch let error as KilnError where error.code == .unsupported {
            throw KilnError.unsupported("\(path): \(error.message)")
        }
    }

    public static func write(_ tensor: Tensor, to path: String) throws {
        try FileIO.write(try encode(tensor), to: path)
    }

    public static func decode(_ bytes: [UInt8]) throws -> Tensor {
        guard bytes.count >= 10, Array(bytes[0..<6]) == magic else {
            throw KilnError.format("not a .npy file (no \\x93NUMPY magic)")
        }
        let major = bytes[6]
        let headerLength: Int
        let headerStart: Int
        switch major {
        case 1:
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8
            headerStart = 10
        case 2, 3:
            guard bytes.count >= 12 else { throw KilnError.format("truncated .npy header") }
            headerLength = (0..<4).reduce(0) { $0 | Int(bytes[8 + $1]) << (8 * $1) }
            headerStart = 12
        default:
            throw KilnError.unsupported(".npy format version \(major).\(bytes[7]) (supported: 1.0 to 3.0)")
        }
        guard bytes.count >= headerStart + headerLength else { throw KilnError.format("truncated .npy header") }
        let header = String(decoding: bytes[headerStart..<(headerStart + headerLength)], as: UTF8.self)
        let (descr, fortranOrder, shape) = try parseHeader(header)
        guard !fortranOrder else {
            throw KilnError.unsupported("Fortran-order arrays are not supported; save with np.ascontiguousarray")
        }
        let dtype = try dtype(forDescr: descr)
        let dataStart = headerStart + headerLength
        let byteCount = try elementCount(of: shape, elementSize: dtype.size) * dtype.size
        guard bytes.count - dataStart >= byteCount else {
            throw KilnError.format("truncated .npy data: shape \(shape) of \(dtype) needs \(byteCount) bytes, file has \(bytes.count - dataStart)")
        }
        let tensor = try Tensor(zeros: shape, dtype: dtype)
        bytes.withUnsafeBytes { source in
            tensor.storage.bytes.copyMemory(from: source.baseAddress! + dataStart, byteCount: byteCount)
        }
        return tensor
    }

    public static func encode(_ tensor: Tensor) throws -> [UInt8] {
        let dense = try tensor.contiguous()
        var bytes = header(descr: descr(for: dense.dtype), shape: dense.shape)
        let dataStart = bytes.count
        bytes += [UInt8](repeating: 0, count: dense.byteCount)
        bytes.withUnsafeMutableBytes { target in
            (target.baseAddress! + dataStart).copyMemory(
                from: dense.storage.bytes + dense.offset * dense.dtype.size, byteCount: dense.byteCount)
        }
        return bytes
    }

    /// A float64 (`<f8`) array, for results such as transformed tables (tensors are float32).
    public static func encodeFloat64(_ values: [Double], shape: [Int]) throws -> [UInt8] {
        guard try elementCount(of: shape, elementSize: 8) == values.count else {
            throw KilnError.shapeMismatch("\(values.count) values do not fill shape \(shape)")
        }
        var bytes = header(descr: "<f8", shape: shape)
        bytes.reserveCapacity(bytes.count + values.count * 8)
        for value in values { withUnsafeBytes(of: value.bitPattern.littleEndian) { bytes.append(contentsOf: $0) } }
        return bytes
    }

    /// Magic, version and the padded header dict.
    private static func header(descr: String, shape: [Int]) -> [UInt8] {
        let shapeText = shape.isEmpty ? "()" : shape.count == 1 ? "(\(shape[0]),)"
            : "(" + shape.map(String.init).joined(separator: ", ") + ")"
        var header = "{'descr': '\(descr)', 'fortran_order': False, 'shape': \(shapeText), }"
        let useVersion2 = header.utf8.count + 11 > Int(UInt16.max)
        let prefixLength = useVersion2 ? 12 : 10
        let padding = (64 - (prefixLength + header.utf8.count + 1) % 64) % 64
        header += String(repeating: " ", count: padding) + "\n"
        var bytes = magic + [useVersion2 ? 2 : 1, 0]
        let length = header.utf8.count
        bytes += useVersion2 ? (0..<4).map { UInt8(truncatingIfNeeded: length >> (8 * $0)) }
            : [UInt8(length & 0xFF), UInt8(length >> 8)]
        bytes += Array(header.utf8)
        return bytes
    }

    static func descr(for dtype: DType) -> String {
        switch dtype {
        case .float32: "<f4"
        case .uint8: "|u1"
        case .int32: "<i4"
        case .int64: "<i8"
        }
    }

    static func dtype(forDescr descr: String) throws -> DType {
        switch descr {
        case "<f4": return .float32
        case "|u1", "<u1", "u1": return .uint8
        case "<i4": return .int32
        case "<i8": return .int64
        default:
            if descr.hasPrefix(">") { throw KilnError.unsupported("big-endian dtype '\(descr)'; convert with arr.astype('<\(descr.dropFirst())')") }
            throw KilnError.unsupported("dtype '\(descr)' (supported: float32 <f4, uint8 |u1, int32 <i4, int64 <i8)")
        }
    }

    /// Parses the Python dict literal of the header: `{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }`.
    static func parseHeader(_ text: String) throws -> (descr: String, fortranOrder: Bool, shape: [Int]) {
        var scanner = HeaderScanner(Array(text.utf8))
        var descr: String?
        var fortranOrder: Bool?
        var shape: [Int]?
        try scanner.expect(UInt8(ascii: "{"))
        while try !scanner.consumeIf(UInt8(ascii: "}")) {
            let key = try scanner.string()
            try scanner.expect(UInt8(ascii: ":"))
            switch key {
            case "descr": descr = try scanner.string()
            case "fortran_order": fortranOrder = try scanner.bool()
            case "shape": shape = try scanner.tuple()
            default: throw KilnError.format("unexpected key '\(key)' in .npy header")
            }
            _ = try scanner.consumeIf(UInt8(ascii: ","))
        }
        guard let descr, let fortranOrder, let shape else {
            throw KilnError.format(".npy header lacks descr, fortran_order or shape: \(text)")
        }
        return (descr, fortranOrder, shape)
    }
}

private struct HeaderScanner {
    let bytes: [UInt8]
    var position = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    mutating func skipSpace() {
        while position < bytes.count, bytes[position] == 0x20 || bytes[position] == 0x0A { position += 1 }
    }

    mutating func consumeIf(_ byte: UInt8) throws -> Bool {
        skipSpace()
        guard position < bytes.count else { throw KilnError.format("unterminated .npy header") }
        if bytes[position] == byte { position += 1; return true }
        return false
    }

    mutating func expect(_ byte: UInt8) throws {
        guard try consumeIf(byte) else {
            throw KilnError.format("malformed .npy header: expected '\(Character(Unicode.Scalar(byte)))' at byte \(position)")
        }
    }

    mutating func string() throws -> String {
        skipSpace()
        guard position < bytes.count, bytes[position] == 0x27 || bytes[position] == 0x22 else {
            throw KilnError.format("malformed .npy header: expected a quoted string at byte \(position)")
        }
        let quote = bytes[position]
        let start = position + 1
        guard let end = bytes[start...].firstIndex(of: quote) else { throw KilnError.format("unterminated string in .npy header") }
        position = end + 1
        return String(decoding: bytes[start..<end], as: UTF8.self)
    }

    mutating func bool() throws -> Bool {
        skipSpace()
        for (word, value) in [("True", true), ("False", false)] where bytes[position...].starts(with: word.utf8) {
            position += word.utf8.count
            return value
        }
        throw KilnError.format("malformed .npy header: expected True or False at byte \(position)")
    }

    mutating func tuple() throws -> [Int] {
        try expect(UInt8(ascii: "("))
        var values: [Int] = []
        while try !consumeIf(UInt8(ascii: ")")) {
            skipSpace()
            let start = position
            while position < bytes.count, (0x30...0x39).contains(bytes[position]) { position += 1 }
            guard position > start, let value = Int(String(decoding: bytes[start..<position], as: UTF8.self)) else {
                throw KilnError.format("malformed shape in .npy header at byte \(start)")
            }
            values.append(value)
            _ = try consumeIf(UInt8(ascii: ","))
        }
        return values
    }
}
