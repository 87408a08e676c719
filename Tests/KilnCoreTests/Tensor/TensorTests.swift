import Testing

@testable import KilnCore

@Suite struct TensorTests {
    @Test func zerosAreZeroAlignedAndRowMajor() throws {
        let tensor = try Tensor(zeros: [2, 3, 4])
        #expect(tensor.count == 24)
        #expect(tensor.strides == [12, 4, 1])
        #expect(tensor.isContiguous)
        #expect(try tensor.scalars(as: Float.self).allSatisfy { $0 == 0 })
        #expect(Int(bitPattern: tensor.storage.bytes) % 64 == 0)
    }

    @Test func valuesMustFitTheShape() throws {
        #expect(throws: KilnError.self) { try Tensor(shape: [2, 2], values: [Float(1), 2, 3]) }
        #expect(throws: KilnError.self) { try Tensor(zeros: [2, -1]) }
        let overflow = #expect(throws: KilnError.self) { try Tensor(zeros: [Int.max / 2, 4]) }
        #expect(overflow?.code == .outOfMemory)
    }

    @Test func emptyAndScalarTensors() throws {
        let empty = try Tensor(zeros: [0, 5])
        #expect(empty.count == 0)
        #expect(try empty.scalars(as: Float.self).isEmpty)
        let scalar = try Tensor(shape: [], values: [Int64(42)])
        #expect(scalar.count == 1)
        #expect(try scalar.value(at: [], as: Int64.self) == 42)
    }

    @Test func copyOnWriteLeavesTheOriginalAlone() throws {
        let original = try Tensor(shape: [3], values: [Float(1), 2, 3])
        var copy = original
        try copy.withUnsafeMutableBufferPointer(as: Float.self) { $0[0] = 10 }
        #expect(try original.scalars(as: Float.self) == [1, 2, 3])
        #expect(try copy.scalars(as: Float.self) == [10, 2, 3])
    }

    @Test func uniqueTensorsAreWrittenInPlace() throws {
        var tensor = try Tensor(shape: [2], values: [Float(1), 2])
        let before = tensor.storage.bytes
        try tensor.withUnsafeMutableBufferPointer(as: Float.self) { $0[1] = 5 }
        #expect(tensor.storage.bytes == before)
        #expect(try tensor.scalars(as: Float.self) == [1, 5])
    }

    @Test func slicesAndPermutationsAreViews() throws {
        let tensor = try Tensor(shape: [2, 3], values: (0..<6).map(Float.init))
        let column = try tensor.sliced(axis: 1, 1..<3)
        #expect(column.shape == [2, 2])
        #expect(!column.isContiguous)
        #expect(column.storage === tensor.storage)
        #expect(try column.scalars(as: Float.self) == [1, 2, 4, 5])

        let transposed = try tensor.transposed()
        #expect(transposed.shape == [3, 2])
        #expect(transposed.storage === tensor.storage)
        #expect(try transposed.scalars(as: Float.self) == [0, 3, 1, 4, 2, 5])
        #expect(try transposed.value(at: [2, 1], as: Float.self) == 5)

        let row = try tensor.element(1)
        #expect(row.shape == [3])
        #expect(try row.scalars(as: Float.self) == [3, 4, 5])
    }

    @Test func writingAViewCopiesIt() throws {
        let tensor = try Tensor(shape: [2, 2], values: [Float(1), 2, 3, 4])
        var view = try tensor.transposed()
        try view.withUnsafeMutableBufferPointer(as: Float.self) { $0[1] = 0 }
        #expect(try view.scalars(as: Float.self) == [1, 0, 2, 4])
        #expect(try tensor.scalars(as: Float.self) == [1, 2, 3, 4])
    }

    @Test func reshapeInfersOneDimension() throws {
        let tensor = try Tensor(shape: [2, 3], values: (0..<6).map(Int32.init))
        let flat = try tensor.reshaped([-1])
        #expect(flat.shape == [6])
        #expect(flat.storage === tensor.storage)
        let nchw = try tensor.reshaped([1, 3, 2, 1], layout: .nchw)
        #expect(nchw.layout == .nchw)
        #expect(throws: KilnError.self) { try tensor.reshaped([4, -1]) }
        #expect(throws: KilnError.self) { try tensor.reshaped([-1, -1]) }
        #expect(throws: KilnError.self) { try tensor.reshaped([7]) }
        let transposedFlat = try tensor.transposed().reshaped([6])
        #expect(try transposedFlat.scalars(as: Int32.self) == [0, 3, 1, 4, 2, 5])
    }

    @Test func dtypeAndIndexErrorsAreReported() throws {
        let tensor = try Tensor(shape: [2], values: [UInt8(1), 2])
        let mismatch = #expect(throws: KilnError.self) { try tensor.scalars(as: Float.self) }
        #expect(mismatch?.code == .shapeMismatch)
        #expect(throws: KilnError.self) { try tensor.value(at: [2], as: UInt8.self) }
        #expect(throws: KilnError.self) { try tensor.sliced(axis: 1, 0..<1) }
        #expect(throws: KilnError.self) { try tensor.sliced(axis: 0, 1..<3) }
        #expect(throws: KilnError.self) { try tensor.permuted([0, 0]) }
    }

    @Test func equalityComparesElementsNotLayout() throws {
        let a = try Tensor(shape: [2, 2], values: [Float(1), 3, 2, 4])
        let b = try Tensor(shape: [2, 2], values: [Float(1), 2, 3, 4]).transposed()
        #expect(a == b)
        let flat = try Tensor(shape: [4], values: [Float(1), 3, 2, 4])
        #expect(a != flat)
    }
}
