import KilnCore
import KilnTabular

/// Term counts and document frequencies over a text column (exact).
struct TermStatistics: Sendable {
    var table = ByteStringTable()
    var counts: [Int] = []
    var documentFrequencies: [Int] = []
    var lastDocument: [Int] = []
    var documents = 0

    /// Counts `term` in the current document, returning its id in `table`.
    @discardableResult
    mutating func add(term: UnsafeBufferPointer<UInt8>) -> Int {
        let (id, inserted) = table.insert(term)
        if inserted {
            counts.append(0)
            documentFrequencies.append(0)
            lastDocument.append(-1)
        }
        counts[id] += 1
        if lastDocument[id] != documents {
            lastDocument[id] = documents
            documentFrequencies[id] += 1
        }
        return id
    }

    mutating func endDocument() { documents += 1 }

    /// Adds `other`'s statistics, returning the id each of its terms has here (by its id there).
    mutating func merge(_ other: TermStatistics) -> [Int32] {
        var mergedIDs = [Int32](repeating: 0, count: other.table.count)
        other.table.forEachKey { id, key, hash in
            let (mine, inserted) = table.insert(key, hash: hash)
            mergedIDs[id] = Int32(truncatingIfNeeded: mine)
            if inserted {
                counts.append(0)
                documentFrequencies.append(0)
                lastDocument.append(-1)
            }
            counts[mine] += other.counts[id]
            documentFrequencies[mine] += other.documentFrequencies[id]
        }
        documents += other.documents
        lastDocument = [Int](repeating: -1, count: counts.count)
        return mergedIDs
    }

    /// Term ids by descending total count, ties by ascending bytes; at most `limit`.
    func topTerms(_ limit: Int?) -> [Int] {
        let keys = (0..<table.count).map { id in table.withKey(id) { Array($0) } }
        let order = (0..<table.count).sorted { a, b in
            counts[a] != counts[b] ? counts[a] > counts[b] : keys[a].lexicographicallyPrecedes(keys[b])
        }
        return Array(order.prefix(limit ?? .max))
    }

    func encode(into writer: inout BinaryWriter) {
        writer.write(documents)
        writer.write(table.count)
        for id in 0..<table.count {
            table.withKey(id) { writer.write($0) }
            writer.write(counts[id])
            writer.write(documentFrequencies[id])
        }
    }

    static func decode(from reader: inout BinaryReader) throws -> TermStatistics {
        var statistics = TermStatistics()
        let documents = try reader.readInt()
        let terms = try reader.readCount(elementBytes: 24)
        for _ in 0..<terms {
            let key = Array(try reader.readBytes())
            let id = key.withUnsafeBufferPointer { statistics.table.insert($0).id }
            guard id == statistics.counts.count else { throw KilnError.format("a partial analysis repeats a term") }
            statistics.counts.append(try reader.readInt())
            statistics.documentFrequencies.append(try reader.readInt())
        }
        statistics.lastDocument = [Int](repeating: -1, count: statistics.counts.count)
        statistics.documents = documents
        return statistics
    }
}

/// Count, means and co-moments of complete rows of several numeric columns (for PCA),
/// mergeable with Chan et al.'s pairwise update.
struct Covariance: Sendable {
    let dimensions: Int
    var count = 0
    var mean: [Double]
    var comoment: [Double]

    init(dimensions: Int) {
        self.dimensions = dimensions
        mean = [Double](repeating: 0, count: dimensions)
        comoment = [Double](repeating: 0, count: dimensions * dimensions)
    }

    mutating func add(_ row: [Double], delta: inout [Double]) {
        count += 1
        let n = Double(count)
        for i in 0..<dimensions {
            delta[i] = row[i] - mean[i]
            mean[i] += delta[i] / n
        }
        for i in 0..<dimensions {
            let after = row[i] - mean[i]
            for j in 0..<dimensions { comoment[i * dimensions + j] += delta[j] * after }
        }
    }

    mutating func merge(_ other: Covariance) {
        guard other.count > 0 else { return }
        guard count > 0 else {
            self = other
            return
        }
        let total = Double(count + other.count)
        let factor = Double(count) * Double(other.count) / total
        let delta = (0..<dimensions).map { other.mean[$0] - mean[$0] }
        for i in 0..<dimensions {
            for j in 0..<dimensions {
                comoment[i * dimensions + j] += other.comoment[i * dimensions + j] + delta[i] * delta[j] * factor
            }
        }
        for i in 0..<dimensions { mean[i] += delta[i] * Double(other.count) / total }
        count += other.count
    }

    func encode(into writer: inout BinaryWriter) {
        writer.write(dimensions)
        writer.write(count)
        writer.write(mean)
        writer.write(comoment)
    }

    static func decode(from reader: inout BinaryReader) throws -> Covariance {
        var covariance = Covariance(dimensions: try reader.readCount(elementBytes: 8))
        covariance.count = try reader.readInt()
        covariance.mean = try reader.readDoubles()
        covariance.comoment = try reader.readDoubles()
        guard covariance.mean.count == covariance.dimensions,
            covariance.comoment.count == covariance.dimensions * covariance.dimensions
        else { throw KilnError.format("a partial analysis has an inconsistent covariance") }
        return covariance
    }
}
