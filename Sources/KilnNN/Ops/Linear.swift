import KilnCore

/// Gemm: Y = alpha · A' · B' + beta · C, with C broadcast to (M, N), on OpenBLAS.
struct GemmOp: Operator {
    let node: Node
    let activation: Activation

    init(node: Node) throws {
        self.node = node
        activation = try FusedActivation.read(node)
    }

    func plan(_ values: [PlannedValue?]) throws -> Step {
        let label = node.label
        let inputs = Inputs(values, label)
        let a = try inputs.float(0, "A"), b = try inputs.float(1, "B")
        guard a.shape.count == 2, b.shape.count == 2 else {
            throw KilnError.shapeMismatch("\(label): A and B must be matrices, got \(a.shape) and \(b.shape)")
        }
        let transA = try node.int("transA", default: 0) != 0, transB = try node.int("transB", default: 0) != 0
        let alpha = try node.float("alpha", default: 1), beta = try node.float("beta", default: 1)
        let (m, k) = transA ? (a.shape[1], a.shape[0]) : (a.shape[0], a.shape[1])
        let (k2, n) = transB ? (b.shape[1], b.shape[0]) : (b.shape[0], b.shape[1])
        guard k == k2 else { throw KilnError.shapeMismatch("\(label): A \(a.shape) and B \(b.shape) do not multiply (transA \(transA), transB \(transB))") }
        guard m > 0, n > 0, k > 0 else { throw KilnError.unsupported("\(label): empty matrices are not supported") }
        var biasWalk: BroadcastWalk?
        if let c = inputs.optional(2) {
            guard c.type.dtype == .float32, try broadcastShape([m, n], c.type.shape, label) == [m, n] else {
                throw KilnError.shapeMismatch("\(label): C of shape \(c.type.shape) does not broadcast to [\(m), \(n)]")
            }
            biasWalk = BroadcastWalk(output: [m, n], operands: [[m, n], c.type.shape])
        }
        let activation = self.activation, cWalk = biasWalk
        return Step(outputs: [ValueType(dtype: .float32, shape: [m, n])], flops: 2 * m * n * k,
                    kernel: "f32-gemm-sgemm-openblas" + (activation == .none ? "" : "+\(activation.name)")) { inputs, outputs in
            let y = outputs[0].floats
            var gemmBeta: Float = 0
            if let cWalk, beta != 0 {
                let c = inputs[2]!.floats
                let stride = cWalk.strides[1].last!
                cWalk.forEachRun { offsets, outputOffset, count in
                    for i in 0..<count { y[outputOffset + i] = beta * c[offsets[1] + i * stride] }
                }
                gemmBeta = 1
            }
            try BLAS.sgemm(transA: transA ? .transpose : .none, transB: transB ? .transpose : .none, m: m, n: n, k: k, alpha: alpha,
                           a: inputs[0]!.floats, lda: a.shape[1], b: inputs[1]!.floats, ldb: b.shape[1], beta: gemmBeta, c: y, ldc: n)
            activation.apply(y, count: m * n)
        }
    }
}

/// MatMul with NumPy semantics: 1-D operands promoted, batch dimensions broadcast.
struct MatMulOp: Operator {
    let label: String

    func plan(_ values: [PlannedValue?]) throws -> Step {
        let inputs = Inputs(values, label)
        let a = try inputs.float(0, "A"), b = try inputs.float(1, "B")
        guard !a.shape.isEmpty, !b.shape.isEmpty else { throw KilnError.shapeMismatch("\(label): MatMul of a scalar") }
        let shapeA = a.shape.count == 1 ? [1] + a.shape : a.shape
        let shapeB = b.shape.count == 1 ? b.shape + [1] : b.shape
        let (m, k) = (shapeA[shapeA.count - 2], shapeA[shapeA.count - 1])
        let (k2, n) = (shapeB[shapeB.count - 2], shapeB[shapeB.count - 1])
        guard k == k2 else { throw KilnError.shapeMismatch("\(label): A \(a.shape) and B \(b.shape) do not multiply") }
        guard m > 0, n > 0, k > 0 else { throw KilnError.unsupported("\(label): empty matrices are not supported") }
        let batchA = Array(shapeA.dropLast(2)), batchB = Array(shapeB.dropLast(2))
        let batch = try broadcastShape(batchA, batchB, label)
        var shape = batch + [m, n]
        if a.shape.count == 1 { shape.remove(at: shape.count - 2) }
        if b.shape.count == 1 { shape.removeLast() }
        let batches = batch.reduce(1, *)
        // B shared by every batch of A: one GEMM with the batches stacked as rows.
        let stacked = batchB.reduce(1, *) == 1 && batchA == batch
        let walk = BroadcastWalk(output: batch.isEmpty ? [1] : batch, operands: [batchA.isEmpty ? [1] : batchA, batchB.isEmpty ? [1] : batchB])
        return Step(outputs: [ValueType(dtype: .float32, shape: shape)], flops: 2 * batches * m * n * k, kernel: "f32-matmul-sgemm-openblas") { inputs, outputs in
            let (x, w, y) = (inputs[0]!.floats, inputs[1]!.floats, outputs[0].floats)
            if stacked {
                try BLAS.sgemm(m: batches * m, n: n, k: k, a: x, lda: k, b: w, ldb: n, c: y, ldc: n)
                return
            }
            var failure: Error?
            let (strideA, strideB) = (walk.strides[0].last!, walk.strides[1].last!)
            walk.forEachRun { offsets, outputOffset, count in
                for i in 0..<count where failure == nil {
                    do {
                        try BLAS.sgemm(m: m, n: n, k: k, a: x + (offsets[0] + i * strideA) * m * k, lda: k,
                                       b: w + (offsets[1] + i * strideB) * k * n, ldb: n, c: y + (outputOffset + i) * m * n, ldc: n)
                    } catch { failure = error }
                }
            }
            if let failure { throw failure }
        }
    }
}
