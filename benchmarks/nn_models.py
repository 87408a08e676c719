"""Writes the `nn` suite's models (PERFORMANCE.md's shapes) into a folder, with onnx.helper.

Single convolutions at batch 1, and the small 128×128 CNN at batch 1 and 32.
"""
import sys
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bindings" / "python" / "tests"))
from onnx_models import small_cnn  # noqa: E402

# name: (in channels, out channels, size, kernel, stride, group)
CONVS = {
    "conv3x3_64_56": (64, 64, 56, 3, 1, 1),
    "conv3x3_128_28": (128, 128, 28, 3, 1, 1),
    "conv3x3_256_14": (256, 256, 14, 3, 1, 1),
    "conv1x1_256to64_56": (256, 64, 56, 1, 1, 1),
    "conv7x7s2_3to64_224": (3, 64, 224, 7, 2, 1),
    "dwconv3x3_32_112": (32, 32, 112, 3, 1, 32),
}
CASES = [(f"{name}.onnx", 1) for name in CONVS] + [("small_cnn_128.onnx", 1), ("small_cnn_128.onnx", 32)]


def conv_model(cin, cout, size, k, stride, group):
    rng = np.random.default_rng(0)
    weights = numpy_helper.from_array((rng.standard_normal((cout, cin // group, k, k)) * 0.1).astype(np.float32), "W")
    bias = numpy_helper.from_array(np.zeros(cout, np.float32), "B")
    node = helper.make_node("Conv", ["x", "W", "B"], ["y"], kernel_shape=[k, k], strides=[stride, stride],
                            pads=[k // 2] * 4, group=group)
    graph = helper.make_graph([node], "conv", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", cin, size, size])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], initializer=[weights, bias])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    return model.SerializeToString()


def write(folder):
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for name, spec in CONVS.items():
        (folder / f"{name}.onnx").write_bytes(conv_model(*spec))
    (folder / "small_cnn_128.onnx").write_bytes(small_cnn(size=128))


if __name__ == "__main__":
    write(sys.argv[1])
