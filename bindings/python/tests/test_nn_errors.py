"""Bad models and bad inputs: a KilnError with the right code and a message naming what was
expected, never a crash."""
import numpy as np
import pytest
from onnx import TensorProto, helper

import kiln
from kiln import _ffi
from onnx_models import F, Builder, small_cnn


def error_of(call):
    with pytest.raises(kiln.KilnError) as raised:
        call()
    return raised.value


def test_truncated_and_corrupt_models():
    data = small_cnn()
    for broken in (data[: len(data) // 2], data[:100], b"not an onnx model at all", b"\x08" * 50):
        error = error_of(lambda: kiln.Model(broken))
        assert error.code == _ffi.ERR_FORMAT, error
    assert error_of(lambda: kiln.Model(b"")).code == _ffi.ERR_FORMAT


def test_missing_file():
    error = error_of(lambda: kiln.Model("/nonexistent/model.onnx"))
    assert error.code == _ffi.ERR_IO
    assert "/nonexistent/model.onnx" in error.message


def test_unsupported_operator_names_op_and_node():
    b = Builder()
    out = b.node("Einsum", ["x", "x"], equation="ij,ij->ij")
    error = error_of(lambda: kiln.Model(b.model([("x", F, [2, 2])], [(out, F, None)])))
    assert error.code == _ffi.ERR_UNSUPPORTED
    assert "Einsum" in error.message and "Einsum_" in error.message


def test_unsupported_opset():
    b = Builder(opset=9)
    out = b.node("Relu", ["x"])
    error = error_of(lambda: kiln.Model(b.model([("x", F, [2])], [(out, F, None)])))
    assert error.code == _ffi.ERR_UNSUPPORTED and "opset 9" in error.message


def test_missing_initializer():
    node = helper.make_node("Conv", ["x", "weights_that_are_not_there"], ["y"], name="conv0", kernel_shape=[3, 3])
    graph = helper.make_graph([node], "g", [helper.make_tensor_value_info("x", F, [1, 1, 4, 4])],
                              [helper.make_tensor_value_info("y", F, None)])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]).SerializeToString()
    error = error_of(lambda: kiln.Model(model))
    assert error.code == _ffi.ERR_FORMAT
    assert "weights_that_are_not_there" in error.message and "conv0" in error.message


@pytest.fixture(scope="module")
def model():
    with kiln.Model(small_cnn()) as loaded:
        yield loaded


def test_wrong_input_name(model):
    error = error_of(lambda: model.run({"images": np.zeros((1, 3, 32, 32), np.float32)}))
    assert error.code == _ffi.ERR_NOT_FOUND and "image" in error.message


def test_missing_input(model):
    assert error_of(lambda: model.run({})).code == _ffi.ERR_NOT_FOUND


def test_wrong_rank_shape_and_dtype(model):
    rank = error_of(lambda: model.run({"image": np.zeros((3, 32, 32), np.float32)}))
    assert rank.code == _ffi.ERR_SHAPE_MISMATCH and "rank 4" in rank.message
    shape = error_of(lambda: model.run({"image": np.zeros((1, 4, 32, 32), np.float32)}))
    assert shape.code == _ffi.ERR_SHAPE_MISMATCH and "size 3 on axis 1" in shape.message
    dtype = error_of(lambda: model.run({"image": np.zeros((1, 3, 32, 32), np.float64)}))
    assert dtype.code == _ffi.ERR_SHAPE_MISMATCH
    wrong_type = error_of(lambda: model.run({"image": np.zeros((1, 3, 32, 32), np.int64)}))
    assert wrong_type.code == _ffi.ERR_SHAPE_MISMATCH and "float32" in wrong_type.message
    too_small = error_of(lambda: model.run({"image": np.zeros((1, 3, 4, 4), np.float32)}))
    assert too_small.code == _ffi.ERR_SHAPE_MISMATCH
    # The model still works afterwards.
    assert model.run({"image": np.zeros((1, 3, 32, 32), np.float32)})


def test_closed_model_raises():
    loaded = kiln.Model(small_cnn())
    loaded.close()
    assert error_of(lambda: loaded.run({"image": np.zeros((1, 3, 32, 32), np.float32)})).code == _ffi.ERR_INVALID_ARGUMENT


def test_absurd_shapes_in_a_model_are_errors_not_crashes():
    for target in ([1 << 40, 1 << 40], [-5, 2], [3, 5]):
        b = Builder()
        out = b.node("Reshape", ["x", b.const(np.array(target, np.int64))])
        with kiln.Model(b.model([("x", F, [2, 3])], [(out, F, None)])) as model:
            error = error_of(lambda: model.run({"x": np.zeros((2, 3), np.float32)}))
            assert error.code in (_ffi.ERR_SHAPE_MISMATCH, _ffi.ERR_OUT_OF_MEMORY), error
    b = Builder()
    out = b.node("Pad", ["x", b.const(np.array([0, 1 << 45, 0, 0], np.int64))])
    with kiln.Model(b.model([("x", F, [2, 3])], [(out, F, None)])) as model:
        assert error_of(lambda: model.run({"x": np.zeros((2, 3), np.float32)})).code in (_ffi.ERR_INVALID_ARGUMENT, _ffi.ERR_OUT_OF_MEMORY)
