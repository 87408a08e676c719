import Testing

@testable import KilnCore

/// Scalar reference in double precision: the oracle for every GEMM.
func referenceGEMM(_ a: [Float], _ b: [Float], m: Int, n: Int, k: Int) -> [Float] {
    var c = [Float](repeating: 0, count: m * n)
    for i in 0..<m {
        for j in 0..<n {
            var sum = 0.0
            for p in 0..<k { sum += Double(a[i * k + p]) * Double(b[p * n + j]) }
            c[i * n + j] = Float(sum)
        }
    }
    return c
}

func randomMatrix(_ rows: Int, _ columns: Int, seed: UInt64) -> [Float] {
    var stream = Philox(seed: seed).stream(0)
    return (0..<(rows * columns)).map { _ in stream.nextUnitFloat() - 0.5 }
}

@Suite struct BLASTests {
    @Test(arguments: [(1, 1, 1), (3, 5, 7), (16, 16, 16), (33, 17, 65), (64, 96, 300)])
    func sgemmMatchesTheScalarReference(shape: (Int, Int, Int)) throws {
        let (m, n, k) = shape
        let a = randomMatrix(m, k, seed: 1), b = randomMatrix(k, n, seed: 2)
        var c = [Float](repeating: 0, count: m * n)
        try BLAS.sgemm(m: m, n: n, k: k, a: a, lda: k, b: b, ldb: n, c: &c, ldc: n)
        let expected = referenceGEMM(a, b, m: m, n: n, k: k)
        let tolerance = 1e-5 * (1 + Float(k).squareRoot())
        #expect(zip(c, expected).allSatisfy { abs($0 - $1) <= tolerance })
    }

    /// Products large enough to split over threads, by rows of C (m ≥ n) or by columns, in every
    /// transposition, with padded leading dimensions, alpha and beta.
    @Test(arguments: [(200, 40, 100), (30, 300, 100)], [(false, false), (true, false), (false, true), (true, true)])
    func splitProductsMatchTheScalarReference(shape: (Int, Int, Int), transposed: (Bool, Bool)) throws {
        let (m, n, k) = shape
        let (pad, alpha, beta): (Int, Float, Float) = (3, 0.5, 2)
        let a = randomMatrix(m, k, seed: 5), b = randomMatrix(k, n, seed: 6), c0 = randomMatrix(m, n, seed: 7)
        // op(A) = a: stored as a (m × k) or as its transpose (k × m), each row padded.
        let (aRows, aColumns) = transposed.0 ? (k, m) : (m, k)
        let (bRows, bColumns) = transposed.1 ? (n, k) : (k, n)
        let storedA = (0..<(aRows * (aColumns + pad))).map { index -> Float in
            let (row, column) = (index / (aColumns + pad), index % (aColumns + pad))
            guard column < aColumns else { return 99 }
            return transposed.0 ? a[column * k + row] : a[row * k + column]
        }
        let storedB = (0..<(bRows * (bColumns + pad))).map { index -> Float in
            let (row, column) = (index / (bColumns + pad), index % (bColumns + pad))
            guard column < bColumns else { return 99 }
            return transposed.1 ? b[column * n + row] : b[row * n + column]
        }
        var c = (0..<(m * (n + pad))).map { index in index % (n + pad) < n ? c0[(index / (n + pad)) * n + index % (n + pad)] : 77 }
        try BLAS.sgemm(transA: transposed.0 ? .transpose : .none, transB: transposed.1 ? .transpose : .none,
                       m: m, n: n, k: k, alpha: alpha, a: storedA, lda: aColumns + pad, b: storedB, ldb: bColumns + pad,
                       beta: beta, c: &c, ldc: n + pad, threads: 3)
        let product = referenceGEMM(a, b, m: m, n: n, k: k)
        for row in 0..<m {
            for column in 0..<(n + pad) {
                let value = c[row * (n + pad) + column]
                if column >= n {
                    #expect(value == 77, "padding written at row \(row), column \(column)")
                } else {
                    let expected = alpha * product[row * n + column] + beta * c0[row * n + column]
                    #expect(abs(value - expected) <= 1e-4, "row \(row), column \(column)")
                }
            }
        }
    }

    @Test func matmulHandlesTransposedAndSlicedViews() throws {
        let (m, n, k) = (5, 4, 6)
        let a = randomMatrix(m, k, seed: 3), b = randomMatrix(k, n, seed: 4)
        let expected = referenceGEMM(a, b, m: m, n: n, k: k)
        let aT = try Tensor(shape: [k, m], values: (0..<(k * m)).map { a[($0 % m) * k + $0 / m] })
        let bWide = try Tensor(shape: [k, n + 2], values: (0..<(k * (n + 2))).map { index in
            let (row, column) = (index / (n + 2), index % (n + 2))
            return column < n ? b[row * n + column] : 99
        })
        let product = try BLAS.matmul(try aT.transposed(), try bWide.sliced(axis: 1, 0..<n))
        #expect(product.shape == [m, n])
        #expect(zip(try product.scalars(as: Float.self), expected).allSatisfy { abs($0 - $1) <= 1e-5 })
    }

    @Test func badArgumentsAreErrorsNotCrashes() throws {
        let a: [Float] = [1, 2, 3, 4, 5, 6]
        var c = [Float](repeating: 0, count: 4)
        let zero = #expect(throws: KilnError.self) {
            try BLAS.sgemm(m: 0, n: 2, k: 3, a: a, lda: 3, b: a, ldb: 2, c: &c, ldc: 2)
        }
        #expect(zero?.code == .invalidArgument)
        let lda = #expect(throws: KilnError.self) {
            try BLAS.sgemm(m: 2, n: 2, k: 3, a: a, lda: 2, b: a, ldb: 2, c: &c, ldc: 2)
        }
        #expect(lda?.message.contains("lda") == true)
        let null = #expect(throws: KilnError.self) {
            try BLAS.sgemm(m: 2, n: 2, k: 3, a: nil, lda: 3, b: a, ldb: 2, c: &c, ldc: 2)
        }
        #expect(null?.code == .nullPointer)
        #expect(c == [0, 0, 0, 0])
        #expect(throws: KilnError.self) {
            try BLAS.matmul(try Tensor(zeros: [2, 3]), try Tensor(zeros: [2, 3]))
        }
        #expect(throws: KilnError.self) {
            try BLAS.matmul(try Tensor(zeros: [2, 3], dtype: .uint8), try Tensor(zeros: [3, 3]))
        }
    }

    @Test func reportsTheOpenBLASCore() {
        let info = BLAS.info
        #expect(!info.coreName.isEmpty)
        #expect(info.config.contains("OpenBLAS"))
        #expect(info.threads >= 1)
    }
}
