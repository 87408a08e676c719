// Dense linear algebra.
import KilnCore

@_cdecl("kiln_sgemm")
public func kiln_sgemm(
    _ transA: Int32, _ transB: Int32, _ m: Int64, _ n: Int64, _ k: Int64, _ alpha: Float,
    _ a: UnsafePointer<Float>?, _ lda: Int64, _ b: UnsafePointer<Float>?, _ ldb: Int64,
    _ beta: Float, _ c: UnsafeMutablePointer<Float>?, _ ldc: Int64
) -> Int32 {
    withStatus {
        guard let opA = BLAS.Transpose(rawValue: transA), let opB = BLAS.Transpose(rawValue: transB) else {
            throw KilnError.invalidArgument("kiln_sgemm: trans_a and trans_b must be KILN_NO_TRANS (0) or KILN_TRANS (1), got \(transA) and \(transB)")
        }
        try BLAS.sgemm(
            transA: opA, transB: opB, m: Int(m), n: Int(n), k: Int(k), alpha: alpha,
            a: a, lda: Int(lda), b: b, ldb: Int(ldb), beta: beta, c: c, ldc: Int(ldc))
    }
}
