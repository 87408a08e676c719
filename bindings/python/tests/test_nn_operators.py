"""Every operator and attribute combination against onnxruntime (1e-4 relative, or absolute
near zero), on models built with onnx.helper."""
import numpy as np
import pytest
from onnx import TensorProto

import kiln
from onnx_models import F, Builder, run_onnxruntime

I64 = TensorProto.INT64


def check(model_bytes, feeds, rtol=1e-4, atol=1e-4):
    expected = run_onnxruntime(model_bytes, feeds)
    with kiln.Model(model_bytes) as model:
        got = model.run(feeds)
    assert set(got) == set(expected)
    for name, value in expected.items():
        assert got[name].shape == value.shape, name
        assert got[name].dtype == value.dtype, name
        np.testing.assert_allclose(got[name], value, rtol=rtol, atol=atol, err_msg=name)
    return got


def single(op, input_shapes, output_shape=None, opset=17, seed=0, extra_inputs=(), **attributes):
    """A one-node model over float inputs x0, x1, ... plus constant extra inputs."""
    b = Builder(seed, opset)
    names = [f"x{i}" for i in range(len(input_shapes))]
    constants = [b.const(value) for value in extra_inputs]
    out = b.node(op, names + constants, **attributes)
    model = b.model([(n, F, list(s)) for n, s in zip(names, input_shapes)], [(out, F, None)])
    rng = np.random.default_rng(seed + 100)
    feeds = {n: np.asarray(rng.standard_normal(s), dtype=np.float32) for n, s in zip(names, input_shapes)}
    return model, feeds


@pytest.mark.parametrize("k,stride,pad,dilation,group,cin,cout,size", [
    (1, 1, 0, 1, 1, 8, 16, 9), (3, 1, 1, 1, 1, 3, 8, 10), (3, 2, 1, 1, 1, 4, 6, 11), (5, 1, 2, 1, 1, 2, 4, 8),
    (7, 2, 3, 1, 1, 3, 8, 20), (3, 1, 2, 2, 1, 4, 4, 9), (3, 1, 1, 1, 2, 4, 6, 7), (3, 1, 1, 1, 8, 8, 8, 12),
    (3, 2, 1, 1, 8, 8, 8, 13), (5, 1, 2, 1, 6, 6, 6, 9), (1, 2, 0, 1, 1, 8, 4, 9), (3, 1, 0, 1, 1, 3, 5, 5),
    # Winograd F(4x4, 3x3): small planes (lane gathers) and wide ones (column phases), ragged edges.
    (3, 1, 1, 1, 1, 16, 24, 7), (3, 1, 1, 1, 1, 16, 24, 37), (3, 1, 0, 1, 1, 32, 16, 70), (3, 1, 2, 1, 1, 16, 16, 30),
])
@pytest.mark.parametrize("batch", [1, 3])
def test_conv(k, stride, pad, dilation, group, cin, cout, size, batch):
    b = Builder(k * 100 + cin)
    out = b.conv("x", cin, cout, k, stride=stride, pad=pad, group=group, dilation=dilation)
    model = b.model([("x", F, [batch, cin, size, size + 1])], [(out, F, None)])
    check(model, {"x": np.random.default_rng(1).standard_normal((batch, cin, size, size + 1)).astype(np.float32)})


@pytest.mark.parametrize("auto_pad", ["SAME_UPPER", "SAME_LOWER", "VALID"])
@pytest.mark.parametrize("stride", [1, 2])
def test_conv_auto_pad(auto_pad, stride):
    b = Builder(3)
    out = b.conv("x", 3, 4, 4, stride=stride, auto_pad=auto_pad, bias=False)
    model = b.model([("x", F, [1, 3, 9, 10])], [(out, F, None)])
    check(model, {"x": np.random.default_rng(2).standard_normal((1, 3, 9, 10)).astype(np.float32)})


def test_conv_1d_with_asymmetric_pads():
    b = Builder(4)
    out = b.node("Conv", ["x", b.weights(5, 3, 3), b.weights(5)], kernel_shape=[3], pads=[2, 0], strides=[2])
    model = b.model([("x", F, [2, 3, 17])], [(out, F, None)])
    check(model, {"x": np.random.default_rng(3).standard_normal((2, 3, 17)).astype(np.float32)})


@pytest.mark.parametrize("tail", ["Relu", "Clip", "LeakyRelu", "Sigmoid", "HardSwish", "BN+Relu", "Add+Relu", "Add"])
def test_conv_fusions(tail):
    b = Builder(5)
    y = b.conv("x", 4, 8, 3)
    if tail.startswith("BN"):
        y = b.batchnorm(y, 8)
    if tail.startswith("Add"):
        y = b.node("Add", [b.conv("x", 4, 8, 1, pad=0), y])  # residual on the left, conv on the right
    last = tail.split("+")[-1]
    if last == "Clip":
        y = b.node("Clip", [y, b.const(np.float32(0)), b.const(np.float32(6))])
    elif last in ("Relu", "LeakyRelu", "Sigmoid", "HardSwish"):
        y = b.node(last, [y])
    model = b.model([("x", F, [2, 4, 8, 8])], [(y, F, None)])
    check(model, {"x": np.random.default_rng(4).standard_normal((2, 4, 8, 8)).astype(np.float32) * 3})


@pytest.mark.parametrize("op", ["MaxPool", "AveragePool"])
@pytest.mark.parametrize("k,stride,pads,ceil", [((2, 2), 2, (0, 0, 0, 0), 0), ((3, 3), 2, (1, 1, 1, 1), 0),
                                                ((3, 3), 2, (0, 0, 0, 0), 1), ((3, 2), 1, (1, 0, 1, 1), 0),
                                                ((2, 2), 3, (1, 1, 0, 0), 1)])
def test_pools(op, k, stride, pads, ceil):
    model, feeds = single(op, [(2, 3, 9, 10)], kernel_shape=list(k), strides=[stride, stride], pads=list(pads), ceil_mode=ceil)
    check(model, feeds)


def test_average_pool_counts_padding_when_asked():
    model, feeds = single("AveragePool", [(1, 2, 6, 6)], kernel_shape=[3, 3], pads=[1, 1, 1, 1], count_include_pad=1)
    check(model, feeds)


def test_max_pool_dilation_and_same_padding():
    check(*single("MaxPool", [(1, 2, 11, 11)], kernel_shape=[3, 3], dilations=[2, 2], strides=[1, 1]))
    check(*single("MaxPool", [(1, 2, 11, 11)], kernel_shape=[3, 3], strides=[2, 2], auto_pad="SAME_UPPER"))


@pytest.mark.parametrize("op", ["GlobalAveragePool", "GlobalMaxPool"])
def test_global_pools(op):
    check(*single(op, [(3, 5, 7, 6)]))


@pytest.mark.parametrize("op,attributes", [
    ("Relu", {}), ("LeakyRelu", {"alpha": 0.2}), ("Sigmoid", {}), ("Tanh", {}), ("HardSigmoid", {"alpha": 0.3, "beta": 0.4}),
    ("HardSwish", {}), ("Identity", {}), ("Dropout", {}),
])
def test_activations(op, attributes):
    model, feeds = single(op, [(2, 37)], **attributes)
    feeds["x0"] *= 5
    check(model, feeds)


def test_clip_with_and_without_bounds():
    check(*single("Clip", [(4, 33)], extra_inputs=[np.float32(-0.5), np.float32(0.7)]))
    check(*single("Clip", [(4, 33)], extra_inputs=[np.float32(0)]))


def test_batch_normalization_standalone():
    b = Builder(6)
    out = b.batchnorm("x", 5)
    check(b.model([("x", F, [2, 5, 3, 4])], [(out, F, None)]), {"x": np.random.default_rng(5).standard_normal((2, 5, 3, 4)).astype(np.float32)})


@pytest.mark.parametrize("op", ["Add", "Sub", "Mul", "Div"])
@pytest.mark.parametrize("a,b", [((2, 3, 4), (2, 3, 4)), ((2, 3, 4), (4,)), ((2, 3, 4), (3, 1)), ((1, 3, 1), (2, 1, 4)),
                                 ((2, 3, 4), ()), ((5, 1, 2, 2), (5, 2, 1))])
def test_binary_broadcasting(op, a, b):
    model, feeds = single(op, [a, b])
    if op == "Div":
        feeds["x1"] = np.asarray(np.abs(feeds["x1"]) + 0.5, dtype=np.float32)
    check(model, feeds)


@pytest.mark.parametrize("axis", [0, 1, -1])
def test_concat(axis):
    shapes = [(2, 3, 4), (2, 3, 4)]
    shapes[1] = tuple(5 if i == axis % 3 else s for i, s in enumerate(shapes[1]))
    check(*single("Concat", shapes, axis=axis))


def test_layout_operators():
    check(*single("Flatten", [(2, 3, 4, 5)], axis=2))
    check(*single("Flatten", [(2, 3, 4)], axis=0))
    check(*single("Transpose", [(2, 3, 4, 5)], perm=[0, 2, 3, 1]))
    check(*single("Transpose", [(2, 3, 4)]))
    check(*single("Reshape", [(2, 3, 4)], extra_inputs=[np.array([0, -1, 2], np.int64)]))
    check(*single("Squeeze", [(2, 1, 4, 1)], opset=11, axes=[1, 3]))
    check(*single("Squeeze", [(2, 1, 4, 1)], extra_inputs=[np.array([-1], np.int64)]))
    check(*single("Unsqueeze", [(2, 4)], opset=11, axes=[0, 3]))
    check(*single("Unsqueeze", [(2, 4)], extra_inputs=[np.array([1, -1], np.int64)]))


@pytest.mark.parametrize("ta,tb,alpha,beta,c_shape", [(0, 0, 1.0, 1.0, (5,)), (1, 0, 0.5, 2.0, (3, 5)), (0, 1, 1.0, 0.0, (1, 5)),
                                                      (1, 1, 2.0, 1.0, (3, 1)), (0, 0, 1.0, 1.0, None)])
def test_gemm(ta, tb, alpha, beta, c_shape):
    a = (4, 3) if ta else (3, 4)
    bshape = (5, 4) if tb else (4, 5)
    extra = [np.random.default_rng(9).standard_normal(c_shape).astype(np.float32)] if c_shape else []
    check(*single("Gemm", [a, bshape], extra_inputs=extra, transA=ta, transB=tb, alpha=alpha, beta=beta))


@pytest.mark.parametrize("a,b", [((3, 4), (4, 5)), ((2, 3, 4), (4, 5)), ((2, 3, 4), (2, 4, 5)), ((1, 3, 4), (2, 4, 5)),
                                 ((4,), (4, 5)), ((3, 4), (4,)), ((2, 1, 3, 4), (5, 4, 2))])
def test_matmul(a, b):
    check(*single("MatMul", [a, b]))


@pytest.mark.parametrize("opset,axis", [(11, 1), (11, 2), (13, 1), (13, -1), (13, 0)])
def test_softmax(opset, axis):
    model, feeds = single("Softmax", [(2, 3, 4)], opset=opset, axis=axis)
    feeds["x0"] *= 10
    check(model, feeds)


@pytest.mark.parametrize("mode", ["constant", "reflect", "edge"])
def test_pad(mode):
    extra = [np.array([0, 0, 1, 2, 0, 0, 2, 1], np.int64)] + ([np.float32(1.5)] if mode == "constant" else [])
    check(*single("Pad", [(1, 2, 4, 5)], extra_inputs=extra, mode=mode))


def test_reduce_mean_keepdims():
    check(*single("ReduceMean", [(2, 3, 4, 5)], opset=13, axes=[2, 3], keepdims=1))
    check(*single("ReduceMean", [(2, 3, 4, 5)], opset=13, axes=[1], keepdims=0))
    check(*single("ReduceSum", [(2, 3, 4)], extra_inputs=[np.array([0, 2], np.int64)], keepdims=0))


def test_slice_cast_and_constant_of_shape():
    check(*single("Slice", [(6, 7)], extra_inputs=[np.array([1, -1], np.int64), np.array([5, 0], np.int64),
                                                   np.array([0, 1], np.int64), np.array([2, -2], np.int64)]))
    b = Builder(7)
    shape = b.node("Shape", ["x"])
    filled = b.node("ConstantOfShape", [shape], value=__import__("onnx").helper.make_tensor("v", F, [1], [2.5]))
    y = b.node("Mul", ["x", filled])
    z = b.node("Cast", [b.node("Cast", [y], to=TensorProto.INT64)], to=F)
    model = b.model([("x", F, [2, 3])], [(z, F, None)])
    check(model, {"x": np.array([[1.2, -3.7, 0.1], [9.9, -0.4, 2.0]], np.float32)})


def test_pytorch_style_shape_plumbing_with_a_dynamic_batch():
    """x.view(x.size(0), -1) as PyTorch exports it: Shape → Gather → Unsqueeze → Concat → Reshape."""
    b = Builder(8, opset=13)
    shape = b.node("Shape", ["x"])
    batch = b.node("Gather", [shape, b.const(np.array(0, np.int64))], axis=0)
    target = b.node("Concat", [b.node("Unsqueeze", [batch, b.const(np.array([0], np.int64))]), b.const(np.array([-1], np.int64))], axis=0)
    flat = b.node("Reshape", [b.node("Relu", [b.conv("x", 3, 4, 3)]), target])
    out = b.node("Gemm", [flat, b.weights(2, 4 * 6 * 6)], transB=1)
    model = b.model([("x", F, ["batch", 3, 6, 6])], [(out, F, ["batch", 2])])
    for batch_size in (1, 3):
        check(model, {"x": np.random.default_rng(batch_size).standard_normal((batch_size, 3, 6, 6)).astype(np.float32)})


def test_nan_inputs_propagate_like_onnxruntime():
    """NaN positions match onnxruntime exactly (its pools keep a NaN only when no number follows
    it in the window); numbers match wherever a window held no NaN."""
    b = Builder(9)
    relu = b.node("Relu", [b.conv("x", 2, 3, 3)])
    pooled = b.node("MaxPool", [relu], kernel_shape=[2, 2], strides=[2, 2])
    model = b.model([("x", F, [1, 2, 6, 6])], [(relu, F, None), (pooled, F, None)])
    x = np.random.default_rng(0).standard_normal((1, 2, 6, 6)).astype(np.float32)
    x[0, 0, 2, 3] = np.nan
    expected = run_onnxruntime(model, {"x": x})
    got = kiln.Model(model).run({"x": x})
    for name in (relu, pooled):
        np.testing.assert_array_equal(np.isnan(got[name]), np.isnan(expected[name]), err_msg=name)
    np.testing.assert_allclose(got[relu], expected[relu], rtol=1e-4, atol=1e-4)
    clean = ~np.isnan(expected[relu]).reshape(1, 3, 3, 2, 3, 2).any(axis=(3, 5))
    np.testing.assert_allclose(got[pooled][clean], expected[pooled][clean], rtol=1e-4, atol=1e-4)


def test_outputs_that_are_inputs_views_or_read_again():
    """Outputs written in place, views of other outputs, views of an input, an output read by a
    later kernel: each comes back right, and the input is left untouched."""
    b = Builder(10)
    relu = b.node("Relu", ["x"])
    flat_relu = b.node("Flatten", [relu])
    doubled = b.node("Add", [relu, relu])
    flat_input = b.node("Reshape", ["x", b.const(np.array([-1], np.int64))])
    model = b.model([("x", F, [2, 3, 4])], [(relu, F, None), (flat_relu, F, None), (doubled, F, None), (flat_input, F, None), ("x", F, None)])
    x = np.random.default_rng(3).standard_normal((2, 3, 4)).astype(np.float32)
    original = x.copy()
    check(model, {"x": x})
    np.testing.assert_array_equal(x, original)
