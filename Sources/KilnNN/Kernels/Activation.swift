#if canImport(Glibc)
import Glibc
#endif

/// Pointwise activations, applied in place: standalone (Relu node ...) or as the epilogue of a
/// fused convolution or GEMM. Piecewise-linear ones run on `SIMD16<Float>`.
enum Activation: Sendable, Equatable {
    case none
    case relu
    case leakyRelu(alpha: Float)
    case clip(min: Float, max: Float)
    case sigmoid
    case tanh
    case hardSigmoid(alpha: Float, beta: Float)
    case hardSwish

    var name: String {
        switch self {
        case .none: "none"
        case .relu: "relu"
        case .leakyRelu: "leaky-relu"
        case .clip: "clip"
        case .sigmoid: "sigmoid"
        case .tanh: "tanh"
        case .hardSigmoid: "hard-sigmoid"
        case .hardSwish: "hard-swish"
        }
    }

    /// `x = f(x)` for `count` floats from `data`. O(count).
    func apply(_ data: UnsafeMutablePointer<Float>, count: Int) {
        switch self {
        case .none: return
        case .relu: Self.simd(data, count, { $0.replacing(with: 0, where: $0 .< 0) }, { max($0, 0) })
        case .leakyRelu(let alpha):
            Self.simd(data, count, { $0.replacing(with: $0 * alpha, where: $0 .< 0) }, { $0 < 0 ? $0 * alpha : $0 })
        case .clip(let low, let high):
            // NaN stays NaN, as in onnxruntime: compare-and-replace, not min/max.
            Self.simd(data, count, {
                $0.replacing(with: SIMD16(repeating: low), where: $0 .< low)
                    .replacing(with: SIMD16(repeating: high), where: $0 .> high)
            }, { $0 < low ? low : ($0 > high ? high : $0) })
        case .sigmoid:
            for i in 0..<count {
                let x = data[i]
                data[i] = x >= 0 ? 1 / (1 + expf(-x)) : expf(x) / (1 + expf(x))
            }
        case .tanh:
            for i in 0..<count { data[i] = tanhf(data[i]) }
        case .hardSigmoid(let alpha, let beta):
            Self.simd(data, count, { x in
                let y = x * alpha + beta
                return y.replacing(with: 0, where: y .< 0).replacing(with: 1, where: y .> 1)
            }, { x in let y = x * alpha + beta; return y < 0 ? 0 : (y > 1 ? 1 : y) })
        case .hardSwish:
            Self.simd(data, count, { x in
                let y = x * (1.0 / 6) + 0.5
                return x * y.replacing(with: 0, where: y .< 0).replacing(with: 1, where: y .> 1)
            }, { x in let y = x / 6 + 0.5; return x * (y < 0 ? 0 : (y > 1 ? 1 : y)) })
        }
    }

    @inline(__always)
    private static func simd(
        _ data: UnsafeMutablePointer<Float>, _ count: Int,
        _ vector: (SIMD16<Float>) -> SIMD16<Float>, _ scalar: (Float) -> Float
    ) {
        var i = 0
        let raw = UnsafeMutableRawPointer(data)
        while i + 16 <= count {
            let x = raw.loadUnaligned(fromByteOffset: i * 4, as: SIMD16<Float>.self)
            raw.storeBytes(of: vector(x), toByteOffset: i * 4, as: SIMD16<Float>.self)
            i += 16
        }
        while i < count {
            data[i] = scalar(data[i])
            i += 1
        }
    }
}
