import KilnCore
import Testing

@testable import KilnNN

/// The packed SIMD GEMM against a scalar triple loop, and Winograd with either GEMM against the
/// direct scalar convolution.
@Suite struct PackedGEMMTests {
    struct Case: CustomTestStringConvertible, Sendable {
        let m: Int, k: Int, n: Int, columns: Range<Int>
        var testDescription: String { "\(m)x\(k) · \(k)x\(n), columns \(columns)" }
    }

    static let cases: [Case] = [
        Case(m: 8, k: 1, n: 32, columns: 0..<32),       // one panel, one block
        Case(m: 13, k: 7, n: 49, columns: 0..<49),      // partial panel; 32 + 16 + 1 columns
        Case(m: 24, k: 33, n: 100, columns: 17..<90),   // a column range inside a wider B
        Case(m: 3, k: 5, n: 5, columns: 0..<5),         // under one panel, under one lane group
    ]

    @Test(arguments: cases)
    func matchesTheScalarProduct(_ t: Case) throws {
        let a = randomValues(t.m * t.k, seed: 1)
        let b = randomValues(t.k * t.n, seed: 2)
        let packed = try PackedMatrix(rowMajor: a, rows: t.m, columns: t.k)
        let sentinel: Float = 12345
        var c = [Float](repeating: sentinel, count: t.m * t.n)
        packed.multiply(b, ldb: t.n, columns: t.columns, into: &c, ldc: t.n)
        for row in 0..<t.m {
            for column in 0..<t.n {
                let value = c[row * t.n + column]
                guard t.columns.contains(column) else {
                    #expect(value == sentinel, "row \(row) column \(column) is outside the range but was written")
                    continue
                }
                let expected = (0..<t.k).reduce(Float(0)) { $0 + a[row * t.k + $1] * b[$1 * t.n + column] }
                #expect(abs(value - expected) <= 1e-5 * (1 + abs(expected)), "row \(row) column \(column)")
            }
        }
    }

    @Test(arguments: [false, true], [(h: 4, w: 4, batch: 1), (h: 28, w: 28, batch: 1), (h: 13, w: 37, batch: 2), (h: 56, w: 56, batch: 1)])
    func winogradMatchesTheReferenceWithEitherGEMM(packed: Bool, size: (h: Int, w: Int, batch: Int)) throws {
        let (c, k) = (16, 24)
        let shape = ConvolutionShape(
            batch: size.batch, inChannels: c, inHeight: size.h, inWidth: size.w, outChannels: k,
            outHeight: size.h, outWidth: size.w, kernelHeight: 3, kernelWidth: 3, strideH: 1, strideW: 1,
            dilationH: 1, dilationW: 1, padTop: 1, padLeft: 1, groups: 1)
        let weights = randomValues(k * c * 9, seed: 3)
        let input = randomValues(size.batch * c * size.h * size.w, seed: 4)
        let winograd = try WinogradF43(shape: shape, weights: try Tensor(shape: [k, c, 3, 3], values: weights), packedGEMM: packed)
        #expect(winograd.usesPackedGEMM == packed)
        var output = [Float](repeating: .nan, count: size.batch * k * size.h * size.w)
        for _ in 0..<2 {  // twice: the scratch (zero borders kept from the first run) must give the same result
            try output.withUnsafeMutableBufferPointer { y in
                try winograd.run(input: input, output: y.baseAddress!, finished: { _ in })
            }
            var expected = [Float](repeating: 0, count: output.count)
            ConvolutionKernels.reference(shape, input: input, weights: weights, bias: nil, output: &expected)
            // Relative to the largest output: Winograd's float32 rounding grows with the values.
            let scale = expected.map(abs).max()!
            let error = zip(output, expected).map { abs($0 - $1) }.max()! / scale
            #expect(error < 2e-5, "worst error \(error) of the largest output \(scale)")
        }
    }
}
