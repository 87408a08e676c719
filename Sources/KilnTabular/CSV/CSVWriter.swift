import KilnCore

#if canImport(Glibc)
import Glibc
#endif

/// Writes tables as RFC 4180 CSV: a header row, LF line ends, missing values as empty fields,
/// fields quoted only when they hold the delimiter, a quote, a line break or edge spaces.
/// Floats print in the shortest form that reads back exactly. Batches can be appended.
public final class CSVWriter {
    private let file: UnsafeMutablePointer<FILE>
    private let path: String
    private let delimiter: UInt8
    private var header: [String]?
    private var buffer: [UInt8] = []

    public init(path: String, delimiter: UInt8 = UInt8(ascii: ",")) throws {
        guard let file = fopen(path, "wb") else {
            throw KilnError.io("cannot create \(path): \(String(cString: strerror(errno)))")
        }
        self.file = file
        self.path = path
        self.delimiter = delimiter
    }

    deinit { fclose(file) }

    /// Appends a batch; the first one's column names become the header.
    public func write(_ table: Table) throws {
        let names = table.columns.map(\.name)
        if let header {
            guard header == names else { throw KilnError.shapeMismatch("a CSV batch has different columns than the first") }
        } else {
            header = names
            for (index, name) in names.enumerated() {
                if index > 0 { buffer.append(delimiter) }
                appendField(Array(name.utf8))
            }
            buffer.append(0x0A)
        }
        for row in 0..<table.rowCount {
            for (index, column) in table.columns.enumerated() {
                if index > 0 { buffer.append(delimiter) }
                guard column.isValid(row) else { continue }
                switch column.values {
                case .string(let strings): strings.withValue(row) { appendField(Array($0)) }
                default: buffer.append(contentsOf: column.text(row).utf8)
                }
            }
            buffer.append(0x0A)
            if buffer.count >= 1 << 20 { try flush() }
        }
        try flush()
    }

    /// Flushes and closes the file (also done on deinit, without error reporting).
    public func close() throws {
        try flush()
        guard fflush(file) == 0 else { throw KilnError.io("cannot write \(path): \(String(cString: strerror(errno)))") }
    }

    /// Writes one table to `path`.
    public static func write(_ table: Table, to path: String) throws {
        let writer = try CSVWriter(path: path)
        try writer.write(table)
        try writer.close()
    }

    private func appendField(_ bytes: [UInt8]) {
        let needsQuotes = bytes.contains { $0 == delimiter || $0 == 0x22 || $0 == 0x0A || $0 == 0x0D }
            || bytes.first == 0x20 || bytes.last == 0x20 || bytes.isEmpty
        guard needsQuotes else {
            buffer.append(contentsOf: bytes)
            return
        }
        buffer.append(0x22)
        for byte in bytes {
            if byte == 0x22 { buffer.append(0x22) }
            buffer.append(byte)
        }
        buffer.append(0x22)
    }

    private func flush() throws {
        guard !buffer.isEmpty else { return }
        let written = buffer.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, file) }
        guard written == buffer.count else {
            throw KilnError.io("cannot write \(path): \(String(cString: strerror(errno)))")
        }
        buffer.removeAll(keepingCapacity: true)
    }
}
