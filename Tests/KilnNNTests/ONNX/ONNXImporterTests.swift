import KilnCore
import Testing

@testable import KilnNN

func nnFixture(_ name: String) -> String {
    let file = "\(#filePath)"
    let folder = file[..<file.lastIndex(of: "/")!]
    return "\(folder)/../Fixtures/\(name)"
}

@Suite struct ONNXImporterTests {
    @Test func runsTheFixtureLikeOnnxruntime() throws {
        let model = try Model(contentsOf: nnFixture("tiny_cnn.onnx"))
        #expect(model.inputs.map(\.description) == ["image: float32[N, 3, 16, 16]"])
        #expect(model.opset == 17)
        #expect(model.exportedOperatorCounts.first { $0.0 == "Conv" }?.1 == 4)
        let input = try NPY.read(nnFixture("tiny_cnn_input.npy"))
        let expected = try NPY.read(nnFixture("tiny_cnn_expected.npy"))
        let output = try Session(model: model).run(["image": input])[model.outputs[0].name]!
        #expect(output.shape == expected.shape)
        #expect(worstRelativeError(try output.scalars(as: Float.self), try expected.scalars(as: Float.self)) < 1e-4)
    }

    @Test func rejectsBrokenFiles() throws {
        let bytes = try FileIO.read(nnFixture("tiny_cnn.onnx"))
        for broken in [Array(bytes.prefix(bytes.count / 2)), Array(bytes.prefix(40)), [UInt8](repeating: 0xFF, count: 64), []] {
            let error = #expect(throws: KilnError.self) { try Model(onnx: broken) }
            #expect(error?.code == .format, "\(error?.message ?? "")")
        }
        let missing = #expect(throws: KilnError.self) { try Model(contentsOf: "/nonexistent.onnx") }
        #expect(missing?.code == .io)
    }

    @Test func rejectsWrongInputs() throws {
        let session = try Session(model: try Model(contentsOf: nnFixture("tiny_cnn.onnx")))
        let name = try #require(#expect(throws: KilnError.self) { try session.run(["x": try Tensor(zeros: [1, 3, 16, 16])]) })
        #expect(name.code == .notFound)
        let shape = try #require(#expect(throws: KilnError.self) { try session.run(["image": try Tensor(zeros: [1, 3, 16, 15])]) })
        #expect(shape.message.contains("size 16 on axis 3"))
        let dtype = try #require(#expect(throws: KilnError.self) { try session.run(["image": try Tensor(zeros: [1, 3, 16, 16], dtype: .uint8)]) })
        #expect(dtype.code == .shapeMismatch)
    }
}
