"""Builders of ONNX test models with onnx.helper, and the onnxruntime oracle.

Used by the NN tests and by scripts/make_nn_fixtures.py. Weights come from a seeded numpy
generator, so every model is reproducible.
"""
import numpy as np
import onnx
import onnxruntime
from onnx import TensorProto, helper, numpy_helper


class Builder:
    """Collects nodes and initializers; `model()` returns the serialized ModelProto."""

    def __init__(self, seed=0, opset=17):
        self.rng = np.random.default_rng(seed)
        self.opset = opset
        self.nodes, self.initializers, self.count = [], [], 0

    def name(self, prefix):
        self.count += 1
        return f"{prefix}{self.count}"

    def const(self, array, prefix="c"):
        name = self.name(prefix)
        self.initializers.append(numpy_helper.from_array(np.asarray(array), name))
        return name

    def weights(self, *shape, scale=None):
        fan_in = int(np.prod(shape[1:])) if len(shape) > 1 else shape[0]
        scale = scale if scale is not None else 1 / np.sqrt(max(fan_in, 1))
        return self.const((self.rng.standard_normal(shape) * scale).astype(np.float32), "w")

    def node(self, op, inputs, outputs=1, **attributes):
        names = [self.name(op.lower()) for _ in range(outputs)]
        self.nodes.append(helper.make_node(op, inputs, names, name=self.name(op + "_"), **attributes))
        return names[0] if outputs == 1 else names

    def conv(self, x, cin, cout, k, stride=1, pad=None, group=1, bias=True, dilation=1, **extra):
        pad = k // 2 * dilation if pad is None else pad
        inputs = [x, self.weights(cout, cin // group, k, k)]
        if bias:
            inputs.append(self.const((self.rng.standard_normal(cout) * 0.1).astype(np.float32), "b"))
        attributes = dict(kernel_shape=[k, k], strides=[stride, stride], group=group, dilations=[dilation, dilation], **extra)
        if "auto_pad" not in extra:
            attributes["pads"] = [pad] * 4
        return self.node("Conv", inputs, **attributes)

    def batchnorm(self, x, channels):
        r = self.rng
        return self.node("BatchNormalization", [
            x, self.const((r.random(channels) + 0.5).astype(np.float32)), self.const((r.standard_normal(channels) * 0.1).astype(np.float32)),
            self.const((r.standard_normal(channels) * 0.1).astype(np.float32)), self.const((r.random(channels) + 0.5).astype(np.float32)),
        ], epsilon=1e-5)

    def model(self, inputs, outputs):
        """inputs/outputs: (name, elem_type, shape) with shape entries int or str (symbolic)."""
        graph = helper.make_graph(
            self.nodes, "test",
            [helper.make_tensor_value_info(n, t, s) for n, t, s in inputs],
            [helper.make_tensor_value_info(n, t, s) for n, t, s in outputs],
            initializer=self.initializers)
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", self.opset)])
        model.ir_version = 8

        return model.SerializeToString()


def run_onnxruntime(model_bytes, feeds):
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1
    session = onnxruntime.InferenceSession(model_bytes, options, providers=["CPUExecutionProvider"])
    names = [output.name for output in session.get_outputs()]
    return dict(zip(names, session.run(names, feeds)))


F = TensorProto.FLOAT


def small_cnn(seed=0, size=32, classes=3, opset=17):
    """PERFORMANCE.md's small CNN: 4 × (conv3×3 + ReLU) with 32, 64, 128, 128 channels, 3
    max-pools, global average pool, dense, softmax (406 MFLOP per 128×128 image)."""
    b = Builder(seed, opset)
    x = "image"
    channels = [3, 32, 64, 128, 128]
    for layer in range(4):
        x = b.node("Relu", [b.conv(x, channels[layer], channels[layer + 1], 3)])
        if layer < 3:
            x = b.node("MaxPool", [x], kernel_shape=[2, 2], strides=[2, 2])
    x = b.node("Flatten", [b.node("GlobalAveragePool", [x])])
    x = b.node("Gemm", [x, b.weights(classes, 128), b.const(np.zeros(classes, np.float32))], transB=1)
    b.node("Softmax", [x], axis=1)
    return b.model([("image", F, ["N", 3, size, size])], [(b.nodes[-1].output[0], F, ["N", classes])])


def resnet_style(seed=1, size=32, opset=17):
    """Conv-BN-ReLU stem, two residual blocks (one with a strided 1×1 projection), GAP, dense."""
    b = Builder(seed, opset)
    x = b.node("Relu", [b.batchnorm(b.conv("image", 3, 16, 3, bias=False), 16)])
    x = b.node("MaxPool", [x], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1])
    for cin, cout, stride in [(16, 16, 1), (16, 32, 2)]:
        y = b.node("Relu", [b.batchnorm(b.conv(x, cin, cout, 3, stride=stride, bias=False), cout)])
        y = b.batchnorm(b.conv(y, cout, cout, 3, bias=False), cout)
        shortcut = x if stride == 1 and cin == cout else b.batchnorm(b.conv(x, cin, cout, 1, stride=stride, pad=0, bias=False), cout)
        x = b.node("Relu", [b.node("Add", [y, shortcut])])
    x = b.node("Flatten", [b.node("GlobalAveragePool", [x])])
    b.node("Gemm", [x, b.weights(10, 32), b.const(np.zeros(10, np.float32))], transB=1)
    return b.model([("image", F, ["N", 3, size, size])], [(b.nodes[-1].output[0], F, ["N", 10])])


def mobilenet_v2_style(seed=2, size=32, opset=17):
    """Stem conv + ReLU6, inverted residual blocks (1×1 expand, 3×3 depthwise, 1×1 project,
    residual when shapes match), GAP, dense: what MobileNetV2 exports contain."""
    b = Builder(seed, opset)
    zero, six = b.const(np.float32(0)), b.const(np.float32(6))

    def relu6(v):
        return b.node("Clip", [v, zero, six])

    x = relu6(b.batchnorm(b.conv("image", 3, 16, 3, stride=2, bias=False), 16))
    for cin, cout, stride, expand in [(16, 16, 1, 4), (16, 24, 2, 4), (24, 24, 1, 6)]:
        hidden = cin * expand
        y = relu6(b.batchnorm(b.conv(x, cin, hidden, 1, pad=0, bias=False), hidden))
        y = relu6(b.batchnorm(b.conv(y, hidden, hidden, 3, stride=stride, group=hidden, bias=False), hidden))
        y = b.batchnorm(b.conv(y, hidden, cout, 1, pad=0, bias=False), cout)
        x = b.node("Add", [x, y]) if stride == 1 and cin == cout else y
    x = relu6(b.conv(x, 24, 64, 1, pad=0))
    x = b.node("Reshape", [b.node("GlobalAveragePool", [x]), b.const(np.array([0, -1], np.int64))])
    b.node("Gemm", [x, b.weights(5, 64), b.const(np.zeros(5, np.float32))], transB=1)
    return b.model([("image", F, ["N", 3, size, size])], [(b.nodes[-1].output[0], F, ["N", 5])])
