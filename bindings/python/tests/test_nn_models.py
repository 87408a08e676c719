"""Whole networks against onnxruntime: ResNet-style (BatchNorm, residual adds), MobileNetV2-style
(depthwise, ReLU6, inverted residuals) and the small CNN of the benchmarks, at batch 1, 3, 32."""
import threading

import numpy as np
import pytest

import kiln
from onnx_models import mobilenet_v2_style, resnet_style, run_onnxruntime, small_cnn

MODELS = {"resnet": resnet_style, "mobilenet_v2": mobilenet_v2_style, "small_cnn": small_cnn}


@pytest.mark.parametrize("name", sorted(MODELS))
@pytest.mark.parametrize("batch", [1, 3, 32])
def test_network_matches_onnxruntime(name, batch):
    model_bytes = MODELS[name]()
    x = np.random.default_rng(batch).standard_normal((batch, 3, 32, 32)).astype(np.float32)
    expected = run_onnxruntime(model_bytes, {"image": x})
    with kiln.Model(model_bytes) as model:
        got = model.run({"image": x})
    for key, value in expected.items():
        np.testing.assert_allclose(got[key], value, rtol=1e-4, atol=1e-4)


def test_model_metadata():
    with kiln.Model(resnet_style()) as model:
        assert [i.name for i in model.inputs] == ["image"]
        assert model.inputs[0].shape == (None, 3, 32, 32)
        assert model.inputs[0].dtype == np.float32
        assert model.outputs[0].shape == (None, 10)


def test_model_from_a_path_and_repeated_runs(tmp_path):
    path = tmp_path / "m.onnx"
    path.write_bytes(small_cnn())
    x = np.random.default_rng(0).standard_normal((2, 3, 32, 32)).astype(np.float32)
    with kiln.Model(str(path)) as model:
        first = model.run({"image": x})
        second = model.run({"image": x})
        other_batch = model.run({"image": x[:1]})
    for key in first:
        np.testing.assert_array_equal(first[key], second[key])
        np.testing.assert_allclose(other_batch[key], first[key][:1], rtol=1e-5, atol=1e-6)


def test_threads_share_one_model():
    model_bytes = mobilenet_v2_style()
    x = np.random.default_rng(1).standard_normal((4, 3, 32, 32)).astype(np.float32)
    expected = run_onnxruntime(model_bytes, {"image": x})
    results, errors = [], []
    with kiln.Model(model_bytes) as model:
        def work():
            try:
                for _ in range(5):
                    results.append(model.run({"image": x}))
            except Exception as error:  # pragma: no cover - reported below
                errors.append(error)
        threads = [threading.Thread(target=work) for _ in range(3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert not errors
    assert len(results) == 15
    for result in results:
        for key, value in expected.items():
            np.testing.assert_allclose(result[key], value, rtol=1e-4, atol=1e-4)


def test_trained_fashion_mnist_model_matches_onnxruntime():
    from pathlib import Path
    examples = Path(__file__).resolve().parents[3] / "examples"
    model_bytes = (examples / "models" / "fashion_mnist_cnn.onnx").read_bytes()
    images = (np.load(examples / "data" / "fashion_mnist_1000.npy").astype(np.float32) / 255.0)[..., None]
    with kiln.Model(model_bytes) as model:
        for batch in (1, 3, 32):
            feeds = {"image": images[:batch]}
            expected = run_onnxruntime(model_bytes, feeds)["probabilities"]
            np.testing.assert_allclose(model.run(feeds)["probabilities"], expected, rtol=1e-4, atol=1e-5)
