import KilnCore
import KilnTabular

/// A multi-valued output (one-hot, bag-of-words, tf-idf, PCA) in compressed sparse rows:
/// row `r` has `values[rowStarts[r]..<rowStarts[r+1]]` at `indices[...]` (ascending).
public struct SparseColumn: Sendable, Equatable {
    public var name: String
    public var width: Int
    public var rowStarts: [Int] = [0]
    public var indices: [Int32] = []
    public var values: [Double] = []

    public var rowCount: Int { rowStarts.count - 1 }

    /// Row `row` as `width` dense values.
    public func dense(_ row: Int) -> [Double] {
        var output = [Double](repeating: 0, count: width)
        for entry in rowStarts[row]..<rowStarts[row + 1] { output[Int(indices[entry])] = values[entry] }
        return output
    }
}

/// One output feature's values for a batch.
public enum OutputColumn: Sendable, Equatable {
    case single(Column)
    case multi(SparseColumn)

    public var name: String {
        switch self {
        case .single(let column): column.name
        case .multi(let sparse): sparse.name
        }
    }
}

/// The result of applying a transform graph to a batch: one output per feature, in order.
public struct TransformedTable: Sendable, Equatable {
    public var outputs: [OutputColumn]
    public var rowCount: Int

    public func output(_ name: String) throws -> OutputColumn {
        guard let output = outputs.first(where: { $0.name == name }) else {
            throw KilnError(.notFound, "no output '\(name)'; the outputs are \(outputs.map { "'\($0.name)'" }.joined(separator: ", "))")
        }
        return output
    }

    /// A plain table: multi-valued outputs become float columns `name_0 … name_{width-1}`.
    public func expanded() throws -> Table {
        var columns: [Column] = []
        for output in outputs {
            switch output {
            case .single(let column): columns.append(column)
            case .multi(let sparse):
                var dense = [[Double]](repeating: [Double](repeating: 0, count: rowCount), count: sparse.width)
                for row in 0..<rowCount {
                    for entry in sparse.rowStarts[row]..<sparse.rowStarts[row + 1] {
                        dense[Int(sparse.indices[entry])][row] = sparse.values[entry]
                    }
                }
                for (index, values) in dense.enumerated() {
                    columns.append(try Column(name: "\(sparse.name)_\(index)", values: .float(values)))
                }
            }
        }
        return try Table(columns: columns)
    }

    /// All outputs as one row-major float64 matrix (multi-valued outputs expanded, missing
    /// values as NaN), for `.npy` files.
    public func matrix() throws -> (values: [Double], columns: Int) {
        let table = try expanded()
        if let text = table.columns.first(where: { $0.type == .string }) {
            throw KilnError.unsupported("output '\(text.name)' holds strings, which a float64 matrix cannot; write CSV instead")
        }
        let width = table.columns.count
        var values = [Double](repeating: .nan, count: rowCount * width)
        for (index, column) in table.columns.enumerated() {
            for row in 0..<rowCount {
                if let value = column.number(row) { values[row * width + index] = value }
            }
        }
        return (values, width)
    }
}
