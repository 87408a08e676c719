import KilnCore
import Testing

@testable import KilnNN

/// Every convolution kernel (im2col + GEMM, 1×1 packed GEMM, depthwise direct, Winograd F(4×4, 3×3))
/// against the direct scalar reference, on sizes below, at and above the tile and lane widths.
@Suite struct ConvolutionTests {
    struct Case: CustomTestStringConvertible, Sendable {
        let c: Int, k: Int, kernel: Int, stride: Int, pad: Int, dilation: Int, groups: Int, h: Int, w: Int, batch: Int
        var testDescription: String { "C\(c) K\(k) \(kernel)x\(kernel) s\(stride) p\(pad) d\(dilation) g\(groups) \(batch)x\(h)x\(w)" }
    }

    static let cases: [Case] = [
        Case(c: 3, k: 8, kernel: 3, stride: 1, pad: 1, dilation: 1, groups: 1, h: 9, w: 11, batch: 1),       // direct
        Case(c: 3, k: 12, kernel: 7, stride: 2, pad: 3, dilation: 1, groups: 1, h: 40, w: 37, batch: 2),     // direct 7×7 s2
        Case(c: 2, k: 9, kernel: 3, stride: 3, pad: 1, dilation: 2, groups: 1, h: 30, w: 50, batch: 1),      // direct s3 d2
        Case(c: 6, k: 8, kernel: 3, stride: 1, pad: 1, dilation: 1, groups: 1, h: 9, w: 11, batch: 1),       // im2col
        Case(c: 8, k: 16, kernel: 1, stride: 1, pad: 0, dilation: 1, groups: 1, h: 7, w: 5, batch: 2),       // 1×1 GEMM
        Case(c: 20, k: 13, kernel: 1, stride: 1, pad: 0, dilation: 1, groups: 1, h: 9, w: 11, batch: 2),     // 1×1, partial panel
        Case(c: 4, k: 6, kernel: 5, stride: 2, pad: 2, dilation: 1, groups: 2, h: 13, w: 10, batch: 1),      // grouped
        Case(c: 4, k: 4, kernel: 3, stride: 1, pad: 2, dilation: 2, groups: 1, h: 10, w: 10, batch: 1),      // dilated
        Case(c: 16, k: 16, kernel: 3, stride: 1, pad: 1, dilation: 1, groups: 16, h: 17, w: 33, batch: 2),   // depthwise
        Case(c: 8, k: 8, kernel: 3, stride: 2, pad: 1, dilation: 1, groups: 8, h: 15, w: 14, batch: 1),      // depthwise s2
        Case(c: 4, k: 4, kernel: 5, stride: 1, pad: 2, dilation: 2, groups: 4, h: 9, w: 40, batch: 1),       // depthwise dilated
        Case(c: 2, k: 2, kernel: 3, stride: 1, pad: 0, dilation: 1, groups: 2, h: 5, w: 18, batch: 1),       // depthwise unpadded
        Case(c: 4, k: 4, kernel: 3, stride: 1, pad: 1, dilation: 1, groups: 4, h: 5, w: 150, batch: 2),      // depthwise, 64-wide blocks
        Case(c: 3, k: 3, kernel: 5, stride: 2, pad: 2, dilation: 1, groups: 3, h: 6, w: 141, batch: 1),      // depthwise s2, 64-wide
        Case(c: 16, k: 16, kernel: 3, stride: 1, pad: 1, dilation: 1, groups: 1, h: 4, w: 4, batch: 1),      // Winograd, 1 tile
        Case(c: 16, k: 24, kernel: 3, stride: 1, pad: 1, dilation: 1, groups: 1, h: 13, w: 17, batch: 3),    // Winograd, ragged
        Case(c: 17, k: 16, kernel: 3, stride: 1, pad: 0, dilation: 1, groups: 1, h: 66, w: 67, batch: 1),    // Winograd, phases
        Case(c: 16, k: 32, kernel: 3, stride: 1, pad: 1, dilation: 1, groups: 1, h: 64, w: 130, batch: 2),   // several lane groups
    ]

    @Test(arguments: cases)
    func matchesTheScalarReference(_ t: Case) throws {
        let (model, weights, bias) = try convModel(
            inChannels: t.c, outChannels: t.k, kernel: t.kernel, stride: t.stride, pad: t.pad, dilation: t.dilation,
            groups: t.groups, height: t.h, width: t.w, seed: UInt64(t.c * 1000 + t.h))
        let input = randomValues(t.batch * t.c * t.h * t.w, seed: 99)
        let output = try Session(model: model).run(["x": try Tensor(shape: [t.batch, t.c, t.h, t.w], values: input)])["y"]!
        let extent = (t.kernel - 1) * t.dilation + 1
        let shape = ConvolutionShape(
            batch: t.batch, inChannels: t.c, inHeight: t.h, inWidth: t.w, outChannels: t.k,
            outHeight: (t.h + 2 * t.pad - extent) / t.stride + 1, outWidth: (t.w + 2 * t.pad - extent) / t.stride + 1,
            kernelHeight: t.kernel, kernelWidth: t.kernel, strideH: t.stride, strideW: t.stride,
            dilationH: t.dilation, dilationW: t.dilation, padTop: t.pad, padLeft: t.pad, groups: t.groups)
        #expect(output.shape == [t.batch, t.k, shape.outHeight, shape.outWidth])
        var expected = [Float](repeating: 0, count: output.count)
        ConvolutionKernels.reference(shape, input: input, weights: weights, bias: bias, output: &expected)
        let error = worstRelativeError(try output.scalars(as: Float.self), expected)
        let kernels = try model.kernels(batch: t.batch).map(\.kernel)
        // Winograd's transforms cost a few ulps more than direct summation (F(4×4, 3×3) in float32).
        let tolerance: Float = kernels.contains { $0.contains("winograd") } ? 1e-4 : 2e-5
        #expect(error < tolerance, "worst relative error \(error) with kernel \(kernels)")
    }

    @Test func kernelSelectionIsReported() throws {
        func kernel(_ c: Int, _ k: Int, _ size: Int, groups: Int = 1, kernel: Int = 3) throws -> String {
            let (model, _, _) = try convModel(inChannels: c, outChannels: k, kernel: kernel, pad: kernel / 2, groups: groups, seed: 1)
            return try model.kernels(batch: 1).first!.kernel
        }
        #expect(try kernel(16, 16, 8).hasPrefix("f32-conv3x3-winograd-f43"))
        #expect(try kernel(3, 16, 8).hasPrefix("f32-conv3x3-direct-simd16"))
        #expect(try kernel(8, 12, 8).hasPrefix("f32-conv3x3-im2col"))
        #expect(try kernel(16, 16, 8, groups: 16).hasPrefix("f32-dwconv3x3-simd16"))
        #expect(try kernel(16, 16, 8, kernel: 1).hasPrefix("f32-conv1x1-gemm-simd16"))
    }
}
