/// Base64 (RFC 4648) decoding, standard or URL-safe alphabet, padding optional: what JSON APIs
/// such as TensorFlow Serving's `{"b64": "..."}` carry.
public enum Base64 {
    private static let table: [Int8] = {
        var table = [Int8](repeating: -1, count: 256)
        for (index, character) in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8.enumerated() {
            table[Int(character)] = Int8(index)
        }
        table[Int(UInt8(ascii: "-"))] = 62
        table[Int(UInt8(ascii: "_"))] = 63
        return table
    }()

    public static func decode(_ text: String) throws -> [UInt8] {
        var bytes = Array(text.utf8)
        while bytes.last == UInt8(ascii: "=") { bytes.removeLast() }
        guard bytes.count % 4 != 1 else { throw KilnError.format("not base64: \(bytes.count) characters cannot encode whole bytes") }
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count * 3 / 4)
        var accumulator: UInt32 = 0, bits = 0
        for (position, byte) in bytes.enumerated() {
            let value = table[Int(byte)]
            guard value >= 0 else { throw KilnError.format("not base64: unexpected character at offset \(position)") }
            accumulator = accumulator << 6 | UInt32(value)
            bits += 6
            if bits >= 8 {
                bits -= 8
                out.append(UInt8(truncatingIfNeeded: accumulator >> UInt32(bits)))
            }
        }
        return out
    }
}
