"""Writes the small committed NN fixtures: a tiny CNN (onnx.helper, seeded weights), an input,
and onnxruntime's output for it — the oracle of the Swift and C tests.

Run: .venv/bin/python scripts/make_nn_fixtures.py
"""
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bindings" / "python" / "tests"))
from onnx_models import F, Builder, run_onnxruntime  # noqa: E402


def tiny_cnn():
    """Conv+BN+ReLU, depthwise conv + ReLU6, max-pool, residual 3×3 (Winograd-sized), GAP,
    dense, softmax: a few kilobytes that reach most kernels."""
    b = Builder(seed=11)
    zero, six = b.const(np.float32(0)), b.const(np.float32(6))
    x = b.node("Relu", [b.batchnorm(b.conv("image", 3, 16, 3, bias=False), 16)])
    x = b.node("Clip", [b.conv(x, 16, 16, 3, group=16), zero, six])
    x = b.node("MaxPool", [x], kernel_shape=[2, 2], strides=[2, 2])
    x = b.node("Relu", [b.node("Add", [x, b.conv(b.node("Relu", [b.conv(x, 16, 16, 3)]), 16, 16, 3)])])
    x = b.node("Flatten", [b.node("GlobalAveragePool", [x])])
    x = b.node("Gemm", [x, b.weights(4, 16), b.const(np.zeros(4, np.float32))], transB=1)
    out = b.node("Softmax", [x], axis=1)
    return b.model([("image", F, ["N", 3, 16, 16])], [(out, F, ["N", 4])]), out


def main():
    model, output = tiny_cnn()
    x = np.random.default_rng(5).standard_normal((2, 3, 16, 16)).astype(np.float32)
    expected = run_onnxruntime(model, {"image": x})[output]
    for folder in (ROOT / "Tests" / "KilnNNTests" / "Fixtures", ROOT / "Tests" / "c" / "fixtures"):
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "tiny_cnn.onnx").write_bytes(model)
    swift = ROOT / "Tests" / "KilnNNTests" / "Fixtures"
    np.save(swift / "tiny_cnn_input.npy", x)
    np.save(swift / "tiny_cnn_expected.npy", expected)
    print(f"tiny_cnn.onnx: {len(model)} bytes, output {output} {expected.shape}")


if __name__ == "__main__":
    main()
