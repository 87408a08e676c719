import KilnCore
import Testing

@testable import KilnNN

/// The Swift inference example of README.md, run from the repository's examples.
@Suite struct ReadmeInferenceExampleTests {
    @Test func swiftInference() throws {
        let examples = nnFixture("../../../examples")
        // --- README.md: Swift inference (paths relative to the repository) ---
        let model = try Model(contentsOf: "\(examples)/models/fashion_mnist_cnn.onnx")  // immutable, shareable
        let session = try Session(model: model, options: SessionOptions(threads: 1))  // one per thread
        let images = try NPY.read("\(examples)/data/fashion_mnist_1000.npy")             // uint8 [1000, 28, 28]
        let pixels = try images.scalars(as: UInt8.self).map { Float($0) / 255 }
        let batch = try Tensor(shape: [1000, 28, 28, 1], values: pixels)
        let probabilities = try session.run(["image": batch])["probabilities"]!      // [1000, 10]
        // --- end ---
        #expect(probabilities.shape == [1000, 10])
        let labels = try NPY.read("\(examples)/data/fashion_mnist_1000_labels.npy").scalars(as: Int64.self)
        let values = try probabilities.scalars(as: Float.self)
        let correct = (0..<1000).filter { i in
            let row = values[(i * 10)..<(i * 10 + 10)]
            return Int64(row.indices.max { row[$0] < row[$1] }! - i * 10) == labels[i]
        }.count
        #expect(correct == 909)  // TensorFlow's own count on these images (examples/models/fashion_mnist_cnn.json)
        try Threads.setCount(0)
    }
}
