import KilnCore

#if canImport(Glibc)
import Glibc
#endif

/// The seeded benchmark table of PERFORMANCE.md: 8 float columns (2% missing), 2 int, 5
/// categorical with 5 … 50,000 Zipf-distributed values (1% missing), a short free-text column
/// and a binary label. Row `i` depends only on `(seed, i)`.
public enum TabularData {
    public static let floatColumns = (1...8).map { "f\($0)" }
    public static let intColumns = ["i1", "i2"]
    public static let categoricalColumns = ["c1", "c2", "c3", "c4", "c5"]
    public static let cardinalities = [5, 50, 500, 5_000, 50_000]
    public static let textColumn = "text"
    static let textVocabulary = 5_000

    /// Writes `rows` rows as CSV to `path`; returns the file size in bytes.
    @discardableResult
    public static func write(rows: Int, to path: String, seed: UInt64 = 2026) throws -> Int {
        guard let file = fopen(path, "wb") else { throw KilnError.io("cannot create \(path)") }
        defer { fclose(file) }
        let header = (floatColumns + intColumns + categoricalColumns + [textColumn, "label"]).joined(separator: ",") + "\n"
        var buffer = Array(header.utf8)
        var written = 0
        let philox = Philox(seed: seed)
        let zipf = cardinalities.map { ZipfTable(count: $0, exponent: 1.1) }
        let words = ZipfTable(count: textVocabulary, exponent: 1.0)
        for row in 0..<rows {
            var random = philox.stream(UInt64(row))
            for column in 0..<8 {
                if random.nextUnitDouble() < 0.02 {
                    buffer.append(0x2C)
                    continue
                }
                let value = random.nextNormal() * Double(column + 1) * 10 + Double(column * 100)
                buffer.append(contentsOf: String(value).utf8)
                buffer.append(0x2C)
            }
            buffer.append(contentsOf: String(Int(random.next() % 100)).utf8)
            buffer.append(0x2C)
            buffer.append(contentsOf: String(Int(random.next() % 1_000_000) - 500_000).utf8)
            buffer.append(0x2C)
            for (index, table) in zipf.enumerated() {
                if random.nextUnitDouble() >= 0.01 {
                    buffer.append(contentsOf: "c\(index + 1)_v\(table.sample(random.nextUnitDouble()))".utf8)
                }
                buffer.append(0x2C)
            }
            let wordCount = 3 + Int(random.next() % 8)
            for word in 0..<wordCount {
                if word > 0 { buffer.append(0x20) }
                buffer.append(contentsOf: "w\(words.sample(random.nextUnitDouble()))".utf8)
            }
            buffer.append(0x2C)
            buffer.append(random.next() & 1 == 0 ? 0x30 : 0x31)
            buffer.append(0x0A)
            if buffer.count > 1 << 20 {
                written += fwrite(buffer, 1, buffer.count, file)
                buffer.removeAll(keepingCapacity: true)
            }
        }
        written += fwrite(buffer, 1, buffer.count, file)
        return written
    }

    /// The generated table of `rows` rows in the temporary folder, written on first use.
    public static func cachedFile(rows: Int) throws -> String {
        let path = "/tmp/kiln-bench-table-\(rows).csv"
        if (try? FileIO.read(path + ".done")) == nil {
            try write(rows: rows, to: path)
            try FileIO.write([], to: path + ".done")
        }
        return path
    }

    /// The spec of the benchmark: z-score and 10 quantile buckets of every float, 0–1 of the
    /// ints, vocabulary top-1000 + OOV and a 1000-bucket hash of every categorical, tf-idf of
    /// the text with a 1000-term vocabulary.
    public static var transformSpec: String {
        var features: [String] = []
        for name in floatColumns {
            features.append(#"{"output": "\#(name)_z", "op": "scale_to_z_score", "input": "\#(name)"}"#)
            features.append(#"{"output": "\#(name)_bucket", "op": "bucketize", "input": "\#(name)", "num_buckets": 10}"#)
        }
        for name in intColumns {
            features.append(#"{"output": "\#(name)_01", "op": "scale_to_0_1", "input": "\#(name)"}"#)
        }
        for name in categoricalColumns {
            features.append(#"{"output": "\#(name)_id", "op": "compute_and_apply_vocabulary", "input": "\#(name)", "top_k": 1000, "num_oov_buckets": 1}"#)
            features.append(#"{"output": "\#(name)_hash", "op": "hash_strings", "input": "\#(name)", "hash_buckets": 1000}"#)
        }
        features.append(#"{"output": "text_tfidf", "op": "tfidf", "input": "text", "vocab_size": 1000}"#)
        return "{\"features\": [\n  " + features.joined(separator: ",\n  ") + "\n]}\n"
    }
}

/// Inverse-CDF sampling of a Zipf distribution over 1...count.
struct ZipfTable {
    private let cumulative: [Double]

    init(count: Int, exponent: Double) {
        var running = 0.0
        var values: [Double] = []
        values.reserveCapacity(count)
        for rank in 1...count {
            running += 1 / pow(Double(rank), exponent)
            values.append(running)
        }
        cumulative = values.map { $0 / running }
    }

    func sample(_ unit: Double) -> Int {
        var low = 0
        var high = cumulative.count - 1
        while low < high {
            let middle = (low + high) / 2
            if cumulative[middle] < unit { low = middle + 1 } else { high = middle }
        }
        return low + 1
    }
}
