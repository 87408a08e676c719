@_spi(KilnInternals) import KilnCore

/// Winograd F(4×4, 3×3) convolution (Lavin & Gray, 2016) for 3×3, stride-1, ungrouped layers:
/// each 6×6 input tile becomes a 4×4 output tile with 36 multiplications per channel pair
/// instead of 144, so 4× less arithmetic than a direct or im2col convolution.
///
/// Per chunk of images: input tiles are transformed (V = Bᵀ d B) into 36 matrices C × T,
/// multiplied by the 36 transformed kernels (U = G g Gᵀ, K × C, computed once per plan) in 36
/// OpenBLAS GEMMs, and transformed back (Y = Aᵀ M A). Name: `f32-conv3x3-winograd-f43`.
struct WinogradF43: Sendable {
    static let tile = 4
    static let input = 6

    let shape: ConvolutionShape
    let tilesH: Int, tilesW: Int
    let imagesPerChunk: Int
    /// Who runs the 36 products, holding the transformed kernels U[ξ] (K × C) in its form.
    enum Products: Sendable {
        /// U[ξ][k][c], row-major, for OpenBLAS.
        case openBLAS(Tensor)
        /// U[ξ] packed into panels, for `PackedMatrix`.
        case packed([PackedMatrix])
    }
    let products: Products
    var usesPackedGEMM: Bool { if case .packed = products { true } else { false } }
    let scratchV: Tensor, scratchM: Tensor
    /// Per channel, the zero-bordered input plane split into 4 column phases: phase q holds
    /// columns 4u + q at position u, so the six columns of 16 neighbouring tiles are six
    /// contiguous 16-float loads. `phaseWidth` ≥ tilesW + 17, `paddedHeight` = 4·tilesH + 2.
    /// (Planes under 8 tiles wide use the space for their zero-bordered copy instead.)
    let scratchPhases: Tensor
    let phaseWidth: Int, paddedHeight: Int
    /// Per tile of an image: offset of its 6×6 input window's first element in the zero-bordered
    /// plane (`borderedWidth` columns; the small-plane path), offset of its 4×4 output block, and
    /// how many of its rows and columns lie inside the output.
    let inputOrigins: [Int32], outputOrigins: [Int32], outputRows: [Int8], outputColumns: [Int8]
    let borderedWidth: Int

    /// Whether a layer suits this kernel (and is worth it: enough channels to fill the GEMMs).
    static func applies(to s: ConvolutionShape) -> Bool {
        s.kernelHeight == 3 && s.kernelWidth == 3 && s.strideH == 1 && s.strideW == 1 && s.dilationH == 1
            && s.dilationW == 1 && s.groups == 1 && s.inChannels >= 16 && s.outChannels >= 16
    }

    /// `packedGEMM`: who runs the products (by default `usesPackedGEMM`; tests choose both).
    init(shape s: ConvolutionShape, weights: Tensor, packedGEMM: Bool? = nil) throws {
        shape = s
        tilesH = (s.outHeight + 3) / 4
        tilesW = (s.outWidth + 3) / 4
        imagesPerChunk = max(1, min(s.batch, WinogradF43.tilesPerChunk / max(tilesH * tilesW, 1)))
        let tiles = imagesPerChunk * tilesH * tilesW
        let transformed = try WinogradF43.transformWeights(try weights.scalars(as: Float.self), k: s.outChannels, c: s.inChannels)
        borderedWidth = 4 * tilesW + 2
        var (inputOrigins, outputOrigins, outputRows, outputColumns) = ([Int32](), [Int32](), [Int8](), [Int8]())
        for th in 0..<tilesH {
            for tw in 0..<tilesW {
                inputOrigins.append(Int32(th * 4 * borderedWidth + tw * 4))
                outputOrigins.append(Int32(th * 4 * s.outWidth + tw * 4))
                outputRows.append(Int8(min(4, s.outHeight - th * 4)))
                outputColumns.append(Int8(min(4, s.outWidth - tw * 4)))
            }
        }
        (self.inputOrigins, self.outputOrigins, self.outputRows, self.outputColumns) =
            (inputOrigins, outputOrigins, outputRows, outputColumns)
        phaseWidth = (tilesW + 17 + 15) / 16 * 16
        paddedHeight = 4 * tilesH + 2
        scratchPhases = try Tensor(zeros: [s.inChannels, 4 * paddedHeight * phaseWidth])
        scratchV = try Tensor(zeros: [36, s.inChannels, tiles])
        if packedGEMM ?? WinogradF43.usesPackedGEMM(tiles: tiles) {
            let u = transformed.unsafeBaseAddress.assumingMemoryBound(to: Float.self)
            products = .packed(try (0..<36).map { xi in
                try PackedMatrix(rowMajor: u + xi * s.outChannels * s.inChannels, rows: s.outChannels, columns: s.inChannels)
            })
        } else {
            products = .openBLAS(transformed)
        }
        scratchM = try Tensor(zeros: [36, s.outChannels, tiles])
    }

    /// Tiles transformed and multiplied together (whole images, at least one): few enough that
    /// the chunk's V and M stay near the cache. Measured on the small CNN at batch 32, 1 thread,
    /// its three Winograd layers: 64 / 128 / 256 / 384 / 1024 / 2048 tiles took 78 / 74 / 73 / 83
    /// / 87 / 118 ms.
    static let tilesPerChunk = 256

    /// Who runs the 36 products of a chunk of `tiles` tiles. OpenBLAS on one thread, except for
    /// few tiles (a 14² plane has 16), where its per-call overhead dominates; on more threads,
    /// `PackedMatrix` in one parallel region over all 36 products rather than 36 small products
    /// each split and waited for (measured on 3×3 convs at 56², 28² and 14²: 1 thread, 1.26 /
    /// 0.77 / 1.16 ms with OpenBLAS, 1.29 / 0.90 / 0.82 ms packed; 2 threads, with OpenBLAS's own
    /// pool, 0.96 / 0.70 / 2.14 ms against 0.77 / 0.64 / 0.64 ms).
    static func usesPackedGEMM(tiles: Int) -> Bool {
        Threads.count > 1 || tiles < 32
    }

    /// U = G g Gᵀ for each (k, c), stored as U[ξ][k][c].
    static func transformWeights(_ g: [Float], k: Int, c: Int) throws -> Tensor {
        let G: [[Float]] = [[1 / 4.0, 0, 0], [-1 / 6.0, -1 / 6.0, -1 / 6.0], [-1 / 6.0, 1 / 6.0, -1 / 6.0],
                            [1 / 24.0, 1 / 12.0, 1 / 6.0], [1 / 24.0, -1 / 12.0, 1 / 6.0], [0, 0, 1]]
        var u = [Float](repeating: 0, count: 36 * k * c)
        for kk in 0..<k {
            for cc in 0..<c {
                let base = (kk * c + cc) * 9
                var temp = [Float](repeating: 0, count: 18)  // G g: 6×3
                for i in 0..<6 { for j in 0..<3 { temp[i * 3 + j] = (0..<3).reduce(0) { $0 + G[i][$1] * g[base + $1 * 3 + j] } } }
                for i in 0..<6 {
                    for j in 0..<6 {
                        u[((i * 6 + j) * k + kk) * c + cc] = (0..<3).reduce(0) { $0 + temp[i * 3 + $1] * G[j][$1] }
                    }
                }
            }
        }
        return try Tensor(shape: [36, k, c], values: u)
    }

    /// Runs the convolution of all images (without bias or activation: the epilogue adds them).
    /// `finished(plane)` runs right after output plane `image × K + k` is written, on the same
    /// thread (the fused epilogue, while the plane is in cache).
    func run(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, finished: (Int) -> Void) throws {
        let s = shape
        let v = scratchV.unsafeBaseAddress.assumingMemoryBound(to: Float.self)
        let m = scratchM.unsafeBaseAddress.assumingMemoryBound(to: Float.self)
        let tilesPerImage = tilesH * tilesW
        var first = 0
        while first < s.batch {
            let images = min(imagesPerChunk, s.batch - first)
            let tiles = images * tilesPerImage
            let (vs, ms) = (UncheckedSendable(v), UncheckedSendable(m))
            let phases = UncheckedSendable(scratchPhases.unsafeBaseAddress.assumingMemoryBound(to: Float.self))
            Parallel.forEach(s.inChannels, minimumChunk: 4) { channels in
                for c in channels {
                    let plane = phases.value + c * 4 * paddedHeight * phaseWidth
                    for image in 0..<images {
                        if tilesW >= 8 {
                            splitPhases(input + ((first + image) * s.inChannels + c) * s.inPlane, into: plane)
                            transformInputRows(plane, into: vs.value + c * tiles + image * tilesPerImage, stride: s.inChannels * tiles)
                        } else {
                            // The zero-bordered copy (`borderedWidth` columns) as one stride-1 phase.
                            ConvolutionKernels.splitPhases(s, input + ((first + image) * s.inChannels + c) * s.inPlane, into: plane,
                                                           paddedHeight: paddedHeight, phaseWidth: borderedWidth, bordersAreZero: true)
                            transformInput(plane, into: vs.value + c * tiles + image * tilesPerImage, stride: s.inChannels * tiles)
                        }
                    }
                }
            }
            switch products {
            case .packed(let packedWeights):
                let blocks = (tiles + 31) / 32
                Parallel.forEach(36 * blocks) { items in
                    for item in items {
                        let (xi, block) = item.quotientAndRemainder(dividingBy: blocks)
                        packedWeights[xi].multiply(vs.value + xi * s.inChannels * tiles, ldb: tiles,
                                                   columns: (block * 32)..<min(tiles, block * 32 + 32),
                                                   into: ms.value + xi * s.outChannels * tiles, ldc: tiles)
                    }
                }
            case .openBLAS(let transformed):
                let u = transformed.unsafeBaseAddress.assumingMemoryBound(to: Float.self)
                for xi in 0..<36 {
                    try BLAS.sgemm(m: s.outChannels, n: tiles, k: s.inChannels, a: u + xi * s.outChannels * s.inChannels, lda: s.inChannels,
                                   b: v + xi * s.inChannels * tiles, ldb: tiles, c: m + xi * s.outChannels * tiles, ldc: tiles)
                }
            }
            Parallel.forEach(s.outChannels, minimumChunk: 4) { kernels in
                for k in kernels {
                    for image in 0..<images {
                        let plane = (first + image) * s.outChannels + k
                        transformOutput(ms.value + k * tiles + image * tilesPerImage, stride: s.outChannels * tiles,
                                        into: output + plane * s.outPlane)
                        finished(plane)
                    }
                }
            }
            first += images
        }
    }

    typealias Lanes = SIMD16<Float>
    static let lanes = 16

    /// Bᵀ x for six values (a row or a column of a tile), as in Lavin & Gray's F(4×4, 3×3).
    @inline(__always)
    static func inputTransform(_ x: (Lanes, Lanes, Lanes, Lanes, Lanes, Lanes)) -> (Lanes, Lanes, Lanes, Lanes, Lanes, Lanes) {
        let (a0, a1, a2, a3, a4, a5) = x
        return (4 * a0 - 5 * a2 + a4, a3 + a4 - 4 * (a1 + a2), a4 - a3 + 4 * (a1 - a2),
                a4 - a2 + 2 * (a3 - a1), a4 - a2 + 2 * (a1 - a3), 4 * a1 - 5 * a3 + a5)
    }

    typealias Six = (Lanes, Lanes, Lanes, Lanes, Lanes, Lanes)

    /// V = Bᵀ d B for 16 tiles at once, given the six rows of their 6×6 inputs (d_i), handing
    /// element ξ = 6a + b of the result to `store`. (Each caller keeps its own `store`: moving
    /// the store in here measured 12% slower on 3×3 64@56².)
    @inline(__always)
    static func transformTiles(_ d: (Six, Six, Six, Six, Six, Six), _ store: (Int, Lanes) -> Void) {
        // d B on each row, then Bᵀ down each column.
        let (r0, r1, r2, r3, r4, r5) = (inputTransform(d.0), inputTransform(d.1), inputTransform(d.2),
                                        inputTransform(d.3), inputTransform(d.4), inputTransform(d.5))
        @inline(__always) func column(_ b: Int, _ values: Six) {
            let v = inputTransform(values)
            store(b, v.0); store(6 + b, v.1); store(12 + b, v.2); store(18 + b, v.3); store(24 + b, v.4); store(30 + b, v.5)
        }
        column(0, (r0.0, r1.0, r2.0, r3.0, r4.0, r5.0))
        column(1, (r0.1, r1.1, r2.1, r3.1, r4.1, r5.1))
        column(2, (r0.2, r1.2, r2.2, r3.2, r4.2, r5.2))
        column(3, (r0.3, r1.3, r2.3, r3.3, r4.3, r5.3))
        column(4, (r0.4, r1.4, r2.4, r3.4, r4.4, r5.4))
        column(5, (r0.5, r1.5, r2.5, r3.5, r4.5, r5.5))
    }

    /// Aᵀ x for six values.
    @inline(__always)
    static func outputTransform(_ x: (Lanes, Lanes, Lanes, Lanes, Lanes, Lanes)) -> (Lanes, Lanes, Lanes, Lanes) {
        let (sum12, diff12, sum34, diff34) = (x.1 + x.2, x.1 - x.2, x.3 + x.4, x.3 - x.4)
        return (x.0 + sum12 + sum34, diff12 + 2 * diff34, sum12 + 4 * sum34, diff12 + 8 * diff34 + x.5)
    }

    /// Copies a plane into its four zero-bordered column phases.
    @inline(__always)
    private func splitPhases(_ source: UnsafePointer<Float>, into phases: UnsafeMutablePointer<Float>) {
        let s = shape
        let phasePlane = paddedHeight * phaseWidth, columns = 4 * (tilesW + 1) + 2
        for y in 0..<paddedHeight {
            let sourceY = y - s.padTop
            let rows = (phases + y * phaseWidth, phases + phasePlane + y * phaseWidth,
                        phases + 2 * phasePlane + y * phaseWidth, phases + 3 * phasePlane + y * phaseWidth)
            guard sourceY >= 0 && sourceY < s.inHeight else {
                for u in 0..<(columns + 3) / 4 { rows.0[u] = 0; rows.1[u] = 0; rows.2[u] = 0; rows.3[u] = 0 }
                continue
            }
            let row = source + sourceY * s.inWidth
            var x = 0
            while x < columns {
                let u = x / 4
                @inline(__always) func value(_ column: Int) -> Float {
                    let sourceX = column - s.padLeft
                    return sourceX >= 0 && sourceX < s.inWidth ? row[sourceX] : 0
                }
                rows.0[u] = value(x); rows.1[u] = value(x + 1); rows.2[u] = value(x + 2); rows.3[u] = value(x + 3)
                x += 4
            }
        }
    }

    /// The input transform on the column phases, sixteen tiles of one tile row per lane group:
    /// every load is contiguous (no gathers, no bounds checks) and every store too.
    @inline(__always)
    private func transformInputRows(_ phases: UnsafePointer<Float>, into v: UnsafeMutablePointer<Float>, stride: Int) {
        let lanes = WinogradF43.lanes
        let phasePlane = paddedHeight * phaseWidth
        for th in 0..<tilesH {
            var tw = 0
            while tw < tilesW {
                let count = min(lanes, tilesW - tw)
                @inline(__always) func row(_ i: Int) -> (Lanes, Lanes, Lanes, Lanes, Lanes, Lanes) {
                    let offset = (th * 4 + i) * phaseWidth + tw
                    @inline(__always) func load(_ phase: Int, _ shift: Int) -> Lanes {
                        UnsafeRawPointer(phases + phase * phasePlane + offset + shift).loadUnaligned(as: Lanes.self)
                    }
                    return (load(0, 0), load(1, 0), load(2, 0), load(3, 0), load(0, 1), load(1, 1))
                }
                let t = th * tilesW + tw
                @inline(__always) func store(_ xi: Int, _ value: Lanes) {
                    let out = v + xi * stride + t
                    if count == lanes {
                        UnsafeMutableRawPointer(out).storeBytes(of: value, as: Lanes.self)
                    } else {
                        for lane in 0..<count { out[lane] = value[lane] }
                    }
                }
                WinogradF43.transformTiles((row(0), row(1), row(2), row(3), row(4), row(5)), store)
                tw += count
            }
        }
    }

    /// V = Bᵀ d B for every tile of a zero-bordered plane (the small-plane path: fewer than 8
    /// tiles per row, too few to fill a lane group from one tile row); element ξ of tile t goes
    /// to v[ξ·stride + t]. Sixteen tiles are transformed at once, one per SIMD lane, gathered
    /// from their windows (tiles in row-major order, so small planes fill the lanes too).
    @inline(__always)
    private func transformInput(_ plane: UnsafePointer<Float>, into v: UnsafeMutablePointer<Float>, stride: Int) {
        let lanes = WinogradF43.lanes, tiles = tilesH * tilesW, width = borderedWidth
        inputOrigins.withUnsafeBufferPointer { origins in
        var t = 0
        while t < tiles {
            let count = min(lanes, tiles - t)
            @inline(__always) func load(_ i: Int, _ j: Int) -> Lanes {
                var r = Lanes()
                let p = plane + i * width + j
                if count == lanes {
                    for lane in 0..<lanes { r[lane] = p[Int(origins[t + lane])] }
                } else {
                    for lane in 0..<count { r[lane] = p[Int(origins[t + lane])] }
                }
                return r
            }
            @inline(__always) func store(_ xi: Int, _ value: Lanes) {
                let out = v + xi * stride + t
                if count == lanes {
                    UnsafeMutableRawPointer(out).storeBytes(of: value, as: Lanes.self)
                } else {
                    for lane in 0..<count { out[lane] = value[lane] }
                }
            }
            @inline(__always) func row(_ i: Int) -> Six {
                (load(i, 0), load(i, 1), load(i, 2), load(i, 3), load(i, 4), load(i, 5))
            }
            WinogradF43.transformTiles((row(0), row(1), row(2), row(3), row(4), row(5)), store)
            t += count
        }
        }
    }

    /// Y = Aᵀ M A for every tile of one output channel, sixteen tiles per lane group, written
    /// where it lies inside the output.
    @inline(__always)
    private func transformOutput(_ m: UnsafePointer<Float>, stride: Int, into plane: UnsafeMutablePointer<Float>) {
        let lanes = WinogradF43.lanes, tiles = tilesH * tilesW
        outputOrigins.withUnsafeBufferPointer { origins in
        outputRows.withUnsafeBufferPointer { rows in
        outputColumns.withUnsafeBufferPointer { columns in
        let width = shape.outWidth
        var t = 0
        while t < tiles {
            let count = min(lanes, tiles - t)
            @inline(__always) func load(_ xi: Int) -> Lanes {
                let p = m + xi * stride + t
                if count == lanes { return UnsafeRawPointer(p).loadUnaligned(as: Lanes.self) }
                var r = Lanes()
                for lane in 0..<count { r[lane] = p[lane] }
                return r
            }
            @inline(__always) func column(_ j: Int) -> (Lanes, Lanes, Lanes, Lanes) {
                WinogradF43.outputTransform((load(j), load(6 + j), load(12 + j), load(18 + j), load(24 + j), load(30 + j)))
            }
            let (c0, c1, c2, c3, c4, c5) = (column(0), column(1), column(2), column(3), column(4), column(5))
            @inline(__always) func row(_ i: Int, _ values: (Lanes, Lanes, Lanes, Lanes, Lanes, Lanes)) {
                let r = WinogradF43.outputTransform(values)
                for lane in 0..<count where Int(rows[t + lane]) > i {
                    let out = plane + Int(origins[t + lane]) + i * width
                    let available = columns[t + lane]
                    if available == 4 {
                        out[0] = r.0[lane]; out[1] = r.1[lane]; out[2] = r.2[lane]; out[3] = r.3[lane]
                    } else {
                        out[0] = r.0[lane]
                        if available > 1 { out[1] = r.1[lane] }
                        if available > 2 { out[2] = r.2[lane] }
                    }
                }
            }
            row(0, (c0.0, c1.0, c2.0, c3.0, c4.0, c5.0))
            row(1, (c0.1, c1.1, c2.1, c3.1, c4.1, c5.1))
            row(2, (c0.2, c1.2, c2.2, c3.2, c4.2, c5.2))
            row(3, (c0.3, c1.3, c2.3, c3.3, c4.3, c5.3))
            t += count
        }
        }
        }
        }
    }
}
