import COpenBLAS

/// Checked wrappers over OpenBLAS, and what it reports about itself.
public enum BLAS {
    public enum Transpose: Int32, Sendable {
        case none = 0
        case transpose = 1
    }

    /// Row-major single-precision GEMM: `C ← alpha·op(A)·op(B) + beta·C`, with `op(A)` of shape
    /// M×K, `op(B)` K×N and `C` M×N. `lda`, `ldb`, `ldc` are row strides in elements.
    ///
    /// Every argument is checked before OpenBLAS sees it: dimensions must be positive and fit in
    /// OpenBLAS's 32-bit integers, each leading dimension at least its row length, pointers
    /// non-nil. The buffers must hold what the shapes and strides say (the caller's promise).
    /// Runs on `Threads.count` threads: C's rows (or columns, when there are more of them) split
    /// over `Parallel.forEach`, one single-threaded OpenBLAS call each. 2·M·N·K flops.
    public static func sgemm(
        transA: Transpose = .none, transB: Transpose = .none,
        m: Int, n: Int, k: Int, alpha: Float = 1,
        a: UnsafePointer<Float>?, lda: Int,
        b: UnsafePointer<Float>?, ldb: Int,
        beta: Float = 0,
        c: UnsafeMutablePointer<Float>?, ldc: Int
    ) throws {
        try sgemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb,
                  beta: beta, c: c, ldc: ldc, threads: Threads.count)
    }

    /// `sgemm` on at most `threads` threads (tests choose it; `Threads.count` otherwise).
    static func sgemm(
        transA: Transpose, transB: Transpose, m: Int, n: Int, k: Int, alpha: Float,
        a: UnsafePointer<Float>?, lda: Int, b: UnsafePointer<Float>?, ldb: Int, beta: Float,
        c: UnsafeMutablePointer<Float>?, ldc: Int, threads: Int
    ) throws {
        for (name, value) in [("m", m), ("n", n), ("k", k)] {
            guard value > 0 else { throw KilnError.invalidArgument("sgemm: \(name) must be positive, got \(value)") }
            guard value <= Int32.max else {
                throw KilnError.invalidArgument("sgemm: \(name) = \(value) exceeds OpenBLAS's 32-bit limit")
            }
        }
        let aRowLength = transA == .none ? k : m
        let bRowLength = transB == .none ? n : k
        let aRows = transA == .none ? m : k
        let bRows = transB == .none ? k : n
        try checkLeadingDimension("lda", lda, rowLength: aRowLength, rows: aRows)
        try checkLeadingDimension("ldb", ldb, rowLength: bRowLength, rows: bRows)
        try checkLeadingDimension("ldc", ldc, rowLength: n, rows: m)
        guard let a else { throw KilnError(.nullPointer, "sgemm: A is NULL") }
        guard let b else { throw KilnError(.nullPointer, "sgemm: B is NULL") }
        guard let c else { throw KilnError(.nullPointer, "sgemm: C is NULL") }
        _ = Threads.count  // makes OpenBLAS single-threaded on first use
        let chunks = max(1, min(threads, m * n * k / minimumWorkPerThread))
        let (tA, tB) = (transA == .none ? CblasNoTrans : CblasTrans, transB == .none ? CblasNoTrans : CblasTrans)
        let (pa, pb, pc) = (UncheckedSendable(a), UncheckedSendable(b), UncheckedSendable(c))
        if m >= n {
            // Rows of C: rows of op(A), which are columns of A when it is transposed.
            Parallel.forEach(m, threads: chunks) { rows in
                let offset = transA == .none ? rows.lowerBound * lda : rows.lowerBound
                cblas_sgemm(CblasRowMajor, tA, tB, Int32(rows.count), Int32(n), Int32(k), alpha, pa.value + offset, Int32(lda),
                            pb.value, Int32(ldb), beta, pc.value + rows.lowerBound * ldc, Int32(ldc))
            }
        } else {
            // Columns of C: columns of op(B), which are rows of B when it is transposed.
            Parallel.forEach(n, threads: chunks) { columns in
                let offset = transB == .none ? columns.lowerBound : columns.lowerBound * ldb
                cblas_sgemm(CblasRowMajor, tA, tB, Int32(m), Int32(columns.count), Int32(k), alpha, pa.value, Int32(lda),
                            pb.value + offset, Int32(ldb), beta, pc.value + columns.lowerBound, Int32(ldc))
            }
        }
    }

    /// Below this many multiply-adds a thread, splitting costs more than it saves (OpenBLAS's own
    /// threshold, 65536 × 4).
    static let minimumWorkPerThread = 262_144

    private static func checkLeadingDimension(_ name: String, _ value: Int, rowLength: Int, rows: Int) throws {
        guard value >= rowLength else {
            throw KilnError.invalidArgument("sgemm: \(name) = \(value) is less than the row length \(rowLength)")
        }
        guard value <= Int32.max else {
            throw KilnError.invalidArgument("sgemm: \(name) = \(value) exceeds OpenBLAS's 32-bit limit")
        }
        let (_, overflow) = value.multipliedReportingOverflow(by: rows * MemoryLayout<Float>.stride)
        guard !overflow else { throw KilnError(.outOfMemory, "sgemm: \(name) × \(rows) rows overflows") }
    }

    /// `C = A·B` for float32 matrices (2-D tensors, any strides with a unit inner stride or a
    /// transposed view of one). Allocates C.
    public static func matmul(_ a: Tensor, _ b: Tensor) throws -> Tensor {
        guard a.dtype == .float32, b.dtype == .float32 else {
            throw KilnError.shapeMismatch("matmul needs float32 matrices, got \(a.dtype) and \(b.dtype)")
        }
        guard a.rank == 2, b.rank == 2, a.shape[1] == b.shape[0] else {
            throw KilnError.shapeMismatch("matmul: shapes \(a.shape) and \(b.shape) do not multiply")
        }
        let (m, k, n) = (a.shape[0], a.shape[1], b.shape[1])
        var c = try Tensor(zeros: [m, n])
        guard m > 0, n > 0, k > 0 else { return c }
        let (aMatrix, transA, lda) = try blasOperand(a)
        let (bMatrix, transB, ldb) = try blasOperand(b)
        try aMatrix.withUnsafeBaseAddress(as: Float.self) { pa in
            try bMatrix.withUnsafeBaseAddress(as: Float.self) { pb in
                try c.withUnsafeMutableBufferPointer(as: Float.self) { pc in
                    try sgemm(transA: transA, transB: transB, m: m, n: n, k: k,
                              a: pa, lda: lda, b: pb, ldb: ldb, c: pc.baseAddress, ldc: n)
                }
            }
        }
        return c
    }

    /// A matrix as BLAS sees it: row-major with a unit inner stride, or the transpose of one.
    private static func blasOperand(_ matrix: Tensor) throws -> (Tensor, Transpose, Int) {
        let (rows, columns) = (matrix.shape[0], matrix.shape[1])
        if matrix.strides[1] == 1 || columns == 1 { return (matrix, .none, max(matrix.strides[0], columns)) }
        if matrix.strides[0] == 1 || rows == 1 { return (matrix, .transpose, max(matrix.strides[1], rows)) }
        return (try matrix.copied(), .none, columns)
    }

    /// What OpenBLAS says about itself: the kernel family it picked, its build, its threads.
    public struct Info: Sendable {
        /// The core whose kernels run, e.g. `Haswell`, `SkylakeX`, `Zen`.
        public let coreName: String
        /// Build options, e.g. `OpenBLAS 0.3.21 DYNAMIC_ARCH NO_AFFINITY Haswell MAX_THREADS=64`.
        public let config: String
        public let threads: Int
        /// `sequential`, `pthreads` or `openmp`.
        public let parallelism: String
        /// `OPENBLAS_CORETYPE` / `OPENBLAS_L2_SIZE` as set in the environment, if any.
        public let coreTypeOverride: String?
        public let l2SizeOverride: String?
    }

    public static var info: Info {
        _ = Threads.count
        let parallel = switch openblas_get_parallel() {
        case 0: "sequential"
        case 1: "pthreads"
        default: "openmp"
        }
        return Info(
            coreName: String(cString: openblas_get_corename()).trimmingSpaces(),
            config: String(cString: openblas_get_config()).trimmingSpaces(),
            threads: Int(openblas_get_num_threads()),
            parallelism: parallel,
            coreTypeOverride: environment("OPENBLAS_CORETYPE"),
            l2SizeOverride: environment("OPENBLAS_L2_SIZE"))
    }
}

extension String {
    func trimmingSpaces() -> String {
        var text = Substring(self)
        while text.first?.isWhitespace == true { text.removeFirst() }
        while text.last?.isWhitespace == true { text.removeLast() }
        return String(text)
    }
}

#if canImport(Glibc)
import Glibc
#endif

func environment(_ name: String) -> String? {
    getenv(name).map { String(cString: $0) }
}
