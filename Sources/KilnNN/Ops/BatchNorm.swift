import KilnCore

#if canImport(Glibc)
import Glibc
#endif

/// BatchNormalization in inference mode: y = (x − mean) / √(var + ε) · scale + B, per channel.
/// `GraphOptimizer` folds it into a preceding Conv; this runs the ones it could not fold.
struct BatchNormOp: Operator {
    let label: String
    let epsilon: Float

    init(node: Node) throws {
        label = node.label
        epsilon = try node.float("epsilon", default: 1e-5)
        if try node.int("training_mode", default: 0) != 0 {
            throw KilnError.unsupported("\(label): training_mode=1 (Kiln runs inference only)")
        }
    }

    func plan(_ values: [PlannedValue?]) throws -> Step {
        let inputs = Inputs(values, label)
        let x = try inputs.float(0, "X")
        guard x.shape.count >= 2 else { throw KilnError.shapeMismatch("\(label): X must have rank 2 or more, got \(x.shape)") }
        let channels = x.shape[1]
        for (index, name) in [(1, "scale"), (2, "B"), (3, "mean"), (4, "var")] {
            let parameter = try inputs.float(index, name)
            guard parameter.shape == [channels] else {
                throw KilnError.shapeMismatch("\(label): \(name) must have shape [\(channels)], got \(parameter.shape)")
            }
        }
        let images = x.shape[0], plane = x.shape[2...].reduce(1, *), epsilon = self.epsilon
        return Step(outputs: [x], flops: 2 * x.count, kernel: "f32-batchnorm") { inputs, outputs in
            let (source, target) = (inputs[0]!.floats, outputs[0].floats)
            let (scale, bias, mean, variance) = (inputs[1]!.floats, inputs[2]!.floats, inputs[3]!.floats, inputs[4]!.floats)
            for image in 0..<images {
                for c in 0..<channels {
                    let factor = scale[c] / sqrtf(variance[c] + epsilon)
                    let shift = bias[c] - mean[c] * factor
                    let offset = (image * channels + c) * plane
                    for i in 0..<plane { target[offset + i] = source[offset + i] * factor + shift }
                }
            }
        }
    }
}
