@_spi(KilnInternals) import KilnCore

/// `C = A·B` for a constant A (M×K), packed once, and a row-major B (K×N): `f32-gemm-simd16-8x32`.
///
/// A is stored in panels of 8 rows, each panel column-major (`panel[p][c][r] = A[8p + r][c]`,
/// rows past M zero), so one step of the inner loop broadcasts the 8 values of A's column c
/// and multiplies them with 32 floats of B's row c: 16 FMAs into 16 register accumulators
/// (8 rows × 2 × `SIMD16<Float>`) for 2 loads and 8 broadcasts. It has no threads of its own:
/// callers split the columns (or several products) over `Parallel.forEach`, where an OpenBLAS
/// call would queue on OpenBLAS's pool.
struct PackedMatrix: Sendable {
    static let panelRows = 8
    let rows: Int, columns: Int
    /// `[panels, columns, 8]`.
    let panels: Tensor

    init(rowMajor a: UnsafePointer<Float>, rows: Int, columns: Int) throws {
        self.rows = rows
        self.columns = columns
        let count = (rows + Self.panelRows - 1) / Self.panelRows
        panels = try Tensor(zeros: [count, columns, Self.panelRows])
        let packed = panels.unsafeBaseAddress.assumingMemoryBound(to: Float.self)
        for row in 0..<rows {
            let (panel, r) = row.quotientAndRemainder(dividingBy: Self.panelRows)
            for c in 0..<columns {
                packed[(panel * columns + c) * Self.panelRows + r] = a[row * columns + c]
            }
        }
    }

    /// Columns `range` of C = A·B (C's row stride `ldc`). B has `columns` rows of stride `ldb`;
    /// only its columns `range` are read.
    func multiply(_ b: UnsafePointer<Float>, ldb: Int, columns range: Range<Int>, into c: UnsafeMutablePointer<Float>, ldc: Int) {
        let a = panels.unsafeBaseAddress.assumingMemoryBound(to: Float.self)
        for panel in 0..<((rows + Self.panelRows - 1) / Self.panelRows) {
            let block = Block(a: a + panel * columns * Self.panelRows, depth: columns, b: b, ldb: ldb,
                              c: c + panel * Self.panelRows * ldc, ldc: ldc, rows: min(Self.panelRows, rows - panel * Self.panelRows))
            var column = range.lowerBound
            while column + 32 <= range.upperBound { block.run(Lanes32.self, column: column); column += 32 }
            if column + 16 <= range.upperBound { block.run(Lanes16.self, column: column); column += 16 }
            if column < range.upperBound { block.tail(column: column, width: range.upperBound - column) }
        }
    }
}

/// One panel of A against B: 8 rows of C at a time.
private struct Block {
    let a: UnsafePointer<Float>
    let depth: Int
    let b: UnsafePointer<Float>
    let ldb: Int
    let c: UnsafeMutablePointer<Float>
    let ldc: Int
    /// Rows of C this panel writes (8, or fewer in the last panel).
    let rows: Int

    /// `L.width` columns from `column`, each B row read as whole lanes.
    @inline(__always)
    func run<L: LaneGroup>(_: L.Type, column: Int) {
        accumulate(column: column, width: L.width) { L(loading: UnsafeRawPointer($0)) }
    }

    /// The last `width` (< 16) columns: each B row's part is copied into a register first, so
    /// nothing past the range is read.
    func tail(column: Int, width: Int) {
        accumulate(column: column, width: width) { row in
            var part = SIMD16<Float>()
            for lane in 0..<width { part[lane] = row[lane] }
            return Lanes16(part)
        }
    }

    /// The 8 × `width` block of C from `column`: `load` gives the lanes of one B row there.
    @inline(__always)
    private func accumulate<L: LaneGroup>(column: Int, width: Int, _ load: (UnsafePointer<Float>) -> L) {
        var r = (L(.zero), L(.zero), L(.zero), L(.zero), L(.zero), L(.zero), L(.zero), L(.zero))
        var (panel, row) = (a, b + column)
        for _ in 0..<depth {
            let x = load(row)
            r.0.add(x, SIMD16(repeating: panel[0]))
            r.1.add(x, SIMD16(repeating: panel[1]))
            r.2.add(x, SIMD16(repeating: panel[2]))
            r.3.add(x, SIMD16(repeating: panel[3]))
            r.4.add(x, SIMD16(repeating: panel[4]))
            r.5.add(x, SIMD16(repeating: panel[5]))
            r.6.add(x, SIMD16(repeating: panel[6]))
            r.7.add(x, SIMD16(repeating: panel[7]))
            panel += PackedMatrix.panelRows
            row += ldb
        }
        store(r, at: column, width: width)
    }

    /// Rows `0..<rows` of the block's results, `width` columns from `column`.
    @inline(__always)
    private func store<L: LaneGroup>(_ r: (L, L, L, L, L, L, L, L), at column: Int, width: Int) {
        let out = c + column
        if rows == PackedMatrix.panelRows && width == L.width {
            r.0.store(out)
            r.1.store(out + ldc)
            r.2.store(out + 2 * ldc)
            r.3.store(out + 3 * ldc)
            r.4.store(out + 4 * ldc)
            r.5.store(out + 5 * ldc)
            r.6.store(out + 6 * ldc)
            r.7.store(out + 7 * ldc)
        } else {
            withUnsafeBytes(of: r) { all in
                let values = all.assumingMemoryBound(to: Float.self)
                for i in 0..<rows {
                    (out + i * ldc).update(from: values.baseAddress! + i * L.width, count: width)
                }
            }
        }
    }
}
