import Testing

import KilnCore

#if canImport(Glibc)
import Glibc
#endif

/// The Swift example of README.md, verbatim, so that it keeps working as written.
@Suite struct ReadmeExampleTests {
    @Test func swiftQuickStart() throws {
        let path = "/tmp/kiln-readme-\(getpid()).npy"
        defer { unlink(path) }
        // --- README.md: Swift ---
        let a = try Tensor(shape: [2, 3], values: [1, 2, 3, 4, 5, 6] as [Float])
        let c = try BLAS.matmul(a, try a.transposed())  // the transpose is a view: no copy
        print(try c.scalars(as: Float.self))              // [14.0, 32.0, 32.0, 77.0]
        try NPY.write(c, to: path)                        // numpy.load(path) reads it
        // --- end ---
        #expect(try c.scalars(as: Float.self) == [14, 32, 32, 77])
        #expect(try NPY.read(path) == c)
    }
}
