import KilnCore

/// NumPy/ONNX multidirectional broadcasting of two shapes.
func broadcastShape(_ a: [Int], _ b: [Int], _ label: String) throws -> [Int] {
    let rank = max(a.count, b.count)
    let paddedA = [Int](repeating: 1, count: rank - a.count) + a
    let paddedB = [Int](repeating: 1, count: rank - b.count) + b
    return try (0..<rank).map { axis in
        let (x, y) = (paddedA[axis], paddedB[axis])
        guard x == y || x == 1 || y == 1 else {
            throw KilnError.shapeMismatch("\(label): shapes \(a) and \(b) do not broadcast (axis \(axis): \(x) vs \(y))")
        }
        return x == 1 ? y : x
    }
}

/// How to walk an input broadcast to an output shape: per output axis, the input's stride in
/// elements (0 where the input is broadcast), with neighbouring axes merged where possible.
struct BroadcastWalk: Sendable {
    /// Output extents, outermost first, after merging; the last is the inner loop.
    let extents: [Int]
    /// For each operand, its stride per merged axis.
    let strides: [[Int]]

    init(output: [Int], operands: [[Int]]) {
        let rank = output.count
        var operandStrides: [[Int]] = operands.map { shape in
            let padded = [Int](repeating: 1, count: rank - shape.count) + shape
            var strides = [Int](repeating: 0, count: rank)
            var running = 1
            for axis in (0..<rank).reversed() {
                strides[axis] = padded[axis] == 1 ? 0 : running
                running *= padded[axis]
            }
            return strides
        }
        // Merge axis i into i+1 when every operand is contiguous across the pair.
        var extents: [Int] = []
        var merged: [[Int]] = operands.map { _ in [] }
        for axis in 0..<rank {
            if output[axis] == 1 { continue }
            if let last = extents.last,
               operandStrides.indices.allSatisfy({ merged[$0].last! == operandStrides[$0][axis] * output[axis] }) {
                extents[extents.count - 1] = last * output[axis]
                for index in merged.indices { merged[index][merged[index].count - 1] = operandStrides[index][axis] }
            } else {
                extents.append(output[axis])
                for index in merged.indices { merged[index].append(operandStrides[index][axis]) }
            }
        }
        if extents.isEmpty {
            extents = [1]
            merged = merged.map { _ in [0] }
        }
        operandStrides = merged
        self.extents = extents
        self.strides = operandStrides
    }

    /// Calls `body(offsets, count, innerStrides)` for each inner run of the output, in order.
    func forEachRun(_ body: (_ offsets: [Int], _ outputOffset: Int, _ count: Int) -> Void) {
        let inner = extents.count - 1
        let outerCount = extents[..<inner].reduce(1, *)
        var index = [Int](repeating: 0, count: inner)
        var offsets = [Int](repeating: 0, count: strides.count)
        for run in 0..<outerCount {
            body(offsets, run * extents[inner], extents[inner])
            var axis = inner - 1
            while axis >= 0 {
                index[axis] += 1
                for operand in offsets.indices { offsets[operand] += strides[operand][axis] }
                if index[axis] < extents[axis] { break }
                for operand in offsets.indices { offsets[operand] -= strides[operand][axis] * extents[axis] }
                index[axis] = 0
                axis -= 1
            }
        }
    }
}
