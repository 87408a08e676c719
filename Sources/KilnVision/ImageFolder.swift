import KilnCore

#if canImport(Glibc)
import Glibc
#endif

/// A folder-per-class dataset (torchvision's ImageFolder layout): `ROOT/<class>/<image>.png|jpg`.
/// Classes are the sub-folders in byte order, labelled 0, 1, ...; images are sorted within each.
public struct ImageFolder: Sendable {
    public let root: String
    public let classes: [String]
    public let paths: [String]
    public let labels: [Int]

    public init(path: String) throws {
        root = path
        let folders = try Self.entries(path).filter { Self.isDirectory(path + "/" + $0) }
        guard !folders.isEmpty else { throw KilnError.invalidArgument("\(path): no class folders (expected ROOT/<class>/<image>)") }
        var paths: [String] = [], labels: [Int] = []
        for (label, folder) in folders.enumerated() {
            for file in try Self.entries(path + "/" + folder) where ImageFormat.from(path: file) != nil {
                paths.append("\(path)/\(folder)/\(file)")
                labels.append(label)
            }
        }
        guard !paths.isEmpty else { throw KilnError.invalidArgument("\(path): no .png, .jpg or .jpeg images in the class folders") }
        classes = folders
        self.paths = paths
        self.labels = labels
    }

    public var count: Int { paths.count }

    public func image(_ index: Int) throws -> Image { try ImageCodec.read(path: paths[index]) }


    private static func entries(_ path: String) throws -> [String] {
        guard let directory = opendir(path) else { throw KilnError.io("\(path): cannot open the folder") }
        defer { closedir(directory) }
        var names: [String] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if !name.hasPrefix(".") { names.append(name) }
        }
        return names.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
    }

    private static func isDirectory(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
    }
}

/// The two standard treatments of class imbalance.
public enum ClassBalance {
    /// scikit-learn's "balanced" weights: `n_samples / (n_classes * count[c])` (0 for an absent class).
    public static func weights(labels: [Int], classCount: Int? = nil) throws -> [Double] {
        let counts = try self.counts(labels, classCount)
        let present = counts.filter { $0 > 0 }.count
        return counts.map { $0 == 0 ? 0 : Double(labels.count) / (Double(present) * Double($0)) }
    }

    /// Sample indices `start ..< start + count` of an endless, seeded, class-balanced stream:
    /// draw `k` picks a class from `target` (uniform over the present classes by default), then
    /// one of its samples uniformly, both from Philox stream `k` of `seed` — so minority classes
    /// are oversampled to the target distribution, reproducibly, in any chunking.
    public static func sample(labels: [Int], count: Int, seed: UInt64, start: Int = 0, target: [Double]? = nil,
                              classCount: Int? = nil) throws -> [Int] {
        let counts = try self.counts(labels, classCount)
        var byClass = [[Int]](repeating: [], count: counts.count)
        for (index, label) in labels.enumerated() { byClass[label].append(index) }
        var weights = target ?? counts.map { $0 > 0 ? 1 : 0 }
        guard weights.count == counts.count else {
            throw KilnError.shapeMismatch("the target distribution has \(weights.count) classes, the labels \(counts.count)")
        }
        guard weights.allSatisfy({ $0 >= 0 && $0.isFinite }) else { throw KilnError.invalidArgument("target weights must be non-negative") }
        for (label, weight) in weights.enumerated() where weight > 0 && counts[label] == 0 {
            throw KilnError.invalidArgument("class \(label) has a target weight but no samples")
        }
        let total = weights.reduce(0, +)
        guard total > 0 else { throw KilnError.invalidArgument("the target distribution is all zero") }
        weights = weights.map { $0 / total }
        guard count >= 0, start >= 0 else { throw KilnError.invalidArgument("count and start must not be negative") }
        return (start..<(start + count)).map { draw in
            var random = Philox(seed: seed).stream(UInt64(draw))
            let u = random.nextUnitDouble()
            var cumulative = 0.0
            var chosen = weights.lastIndex { $0 > 0 }!
            for (label, weight) in weights.enumerated() where weight > 0 {
                cumulative += weight
                if u < cumulative { chosen = label; break }
            }
            let members = byClass[chosen]
            return members[min(Int(random.nextUnitDouble() * Double(members.count)), members.count - 1)]
        }
    }

    private static func counts(_ labels: [Int], _ classCount: Int?) throws -> [Int] {
        guard !labels.isEmpty else { throw KilnError.invalidArgument("no labels") }
        guard let maximum = labels.max(), let minimum = labels.min(), minimum >= 0 else {
            throw KilnError.invalidArgument("labels must be 0, 1, 2 ...")
        }
        let classes = classCount ?? maximum + 1
        guard maximum < classes else { throw KilnError.invalidArgument("label \(maximum) is not below the class count \(classes)") }
        var counts = [Int](repeating: 0, count: classes)
        for label in labels { counts[label] += 1 }
        return counts
    }
}
