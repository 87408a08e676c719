import Testing

@testable import KilnCore

@Suite struct NPYTests {
    @Test func readsWhatNumpyWrote() throws {
        let f32 = try NPY.read(fixturePath("f32_2x3.npy"))
        #expect(f32.dtype == .float32 && f32.shape == [2, 3])
        #expect(try f32.scalars(as: Float.self) == [0, 0.5, 1, 1.5, 2, 2.5])
        let u8 = try NPY.read(fixturePath("u8_4.npy"))
        #expect(u8.dtype == .uint8 && u8.shape == [4])
        #expect(try u8.scalars(as: UInt8.self) == [0, 1, 254, 255])
        let i64 = try NPY.read(fixturePath("i64_2x2x2.npy"))
        #expect(i64.shape == [2, 2, 2])
        #expect(try i64.scalars(as: Int64.self) == [-3, -2, -1, 0, 1, 2, 3, 4])
        let scalar = try NPY.read(fixturePath("i32_scalar.npy"))
        #expect(scalar.shape == [])
        #expect(try scalar.scalars(as: Int32.self) == [7])
    }

    @Test func writesWhatNumpyWrites() throws {
        let expected = try FileIO.read(fixturePath("f32_2x3.npy"))
        let tensor = try Tensor(shape: [2, 3], values: [Float(0), 0.5, 1, 1.5, 2, 2.5])
        #expect(try NPY.encode(tensor) == expected)
        let i64 = try FileIO.read(fixturePath("i64_2x2x2.npy"))
        #expect(try NPY.encode(try NPY.decode(i64)) == i64)
    }

    @Test(arguments: DType.allCases)
    func roundTripsEveryDType(dtype: DType) throws {
        let source = try Tensor(zeros: [3, 1, 2], dtype: dtype)
        let transposed = try source.permuted([2, 1, 0])
        let decoded = try NPY.decode(try NPY.encode(transposed))
        #expect(decoded == transposed)
        #expect(decoded.shape == [2, 1, 3])
    }

    @Test func rejectsWhatItCannotRead() throws {
        let bigEndian = #expect(throws: KilnError.self) { try NPY.read(fixturePath("f32_big_endian.npy")) }
        #expect(bigEndian?.code == .unsupported)
        #expect(bigEndian?.message.contains("big-endian") == true)
        let fortran = #expect(throws: KilnError.self) { try NPY.read(fixturePath("f32_fortran.npy")) }
        #expect(fortran?.message.contains("Fortran") == true)
        let float64 = #expect(throws: KilnError.self) { try NPY.read(fixturePath("f64_3.npy")) }
        #expect(float64?.message.contains("<f8") == true)
        let missing = #expect(throws: KilnError.self) { try NPY.read(fixturePath("absent.npy")) }
        #expect(missing?.code == .io)

        let good = try FileIO.read(fixturePath("f32_2x3.npy"))
        let truncated = #expect(throws: KilnError.self) { try NPY.decode(Array(good.dropLast(4))) }
        #expect(truncated?.code == .format)
        #expect(throws: KilnError.self) { try NPY.decode(Array(good.prefix(20))) }
        #expect(throws: KilnError.self) { try NPY.decode([0x93, 0x4E, 0x55]) }
        #expect(throws: KilnError.self) { try NPY.decode(Array("not numpy at all".utf8)) }
        var corrupt = good
        corrupt[20] = UInt8(ascii: "?")
        #expect(throws: KilnError.self) { try NPY.decode(corrupt) }
    }
}
