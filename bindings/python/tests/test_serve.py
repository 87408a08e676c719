"""`kiln serve`: TensorFlow Serving's REST API over real models, against kiln.Model's results."""
import json
import os
import shutil
import subprocess
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
import pytest

import kiln

ROOT = Path(__file__).resolve().parents[3]
CLI = os.environ.get("KILN_CLI", str(ROOT / ".build" / "debug" / "kiln-cli"))
FASHION = ROOT / "examples" / "models" / "fashion_mnist_cnn.onnx"
TINY = ROOT / "Tests" / "c" / "fixtures" / "tiny_cnn.onnx"


WAGE_SPEC = {"features": [
    {"output": "age_z", "op": "scale_to_z_score", "input": "age"},
    {"output": "education", "op": "one_hot", "input": "education"},
    {"output": "wage_bucket", "op": "bucketize", "input": "wage", "num_buckets": 4},
]}
WEIGHTS = np.random.default_rng(3).standard_normal((1 + 5 + 1, 2)).astype(np.float32)


def write_wage_model(folder):
    """A linear classifier over the transform's outputs (1 + 5 one-hot + 1 = 7 features)."""
    import onnx
    from onnx import TensorProto, helper
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["features", "w"], ["logits"]), helper.make_node("Softmax", ["logits"], ["probabilities"], axis=1)],
        "wages", [helper.make_tensor_value_info("features", TensorProto.FLOAT, ["N", 7])],
        [helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, ["N", 2])],
        [helper.make_tensor("w", TensorProto.FLOAT, WEIGHTS.shape, WEIGHTS.flatten().tolist())])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), folder / "model.onnx")
    kiln.transform.analyze(WAGE_SPEC, ROOT / "examples" / "data" / "wage_islr.csv").save(folder / "transform.json")
    (folder / "labels.txt").write_text("low\nhigh\n")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    repository = tmp_path_factory.mktemp("models")
    for name, version, source in [("fashion", 1, FASHION), ("tiny", 1, TINY), ("tiny", 2, TINY), ("batched", 1, FASHION),
                                  ("narrow", 1, FASHION)]:
        (repository / name / str(version)).mkdir(parents=True)
        shutil.copy(source, repository / name / str(version) / "model.onnx")
    # Images in: decoded, made grey, resized to 28x28 and scaled to 0..1 as in training.
    (repository / "fashion" / "1" / "preprocess.json").write_text(json.dumps({"channels": 1, "transforms": [
        {"name": "Resize", "height": 28, "width": 28}, {"name": "Normalize", "mean": [0], "std": [1], "layout": "HWC"}]}))
    (repository / "tiny" / "config.json").write_text(json.dumps({"model_version_policy": {"all": {}}}))
    (repository / "batched" / "1" / "config.json").write_text(json.dumps(
        {"max_batch_size": 8, "batch_timeout_micros": 100000, "max_enqueued_batches": 4}))
    (repository / "narrow" / "1" / "config.json").write_text(json.dumps(
        {"max_batch_size": 1, "batch_timeout_micros": 20000, "max_enqueued_batches": 1}))
    (repository / "wages" / "1").mkdir(parents=True)
    write_wage_model(repository / "wages" / "1")
    process, url = start_server(repository, "--max-body-bytes", "2000000")
    yield url
    process.terminate()
    process.wait(timeout=30)


def call(url, path, body=None, content_type="application/json", headers=None, with_headers=False):
    data = None if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
    fields = dict({"Content-Type": content_type} if data else {}, **(headers or {}))
    request = urllib.request.Request(url + path, data=data, headers=fields, method="POST" if data is not None or path.startswith("/v1/admin") else "GET")
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            answer = (response.status, json.loads(response.read()))
            return (*answer, response.headers) if with_headers else answer
    except urllib.error.HTTPError as error:
        answer = (error.code, json.loads(error.read()))
        return (*answer, error.headers) if with_headers else answer


def start_server(repository, *options, env=None):
    """`kiln serve` on a free loopback port: (process, url) once the first scan is done."""
    process = subprocess.Popen([CLI, "serve", "--model-dir", str(repository), "--port", "0", "--threads", "1", *options],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=dict(os.environ, **(env or {})))
    for line in process.stdout:
        if line.startswith("serving "):
            return process, line.rsplit(" on ", 1)[1].strip()
    raise AssertionError("the server did not start")


def test_status_metadata_and_health(server):
    assert call(server, "/v1/health/live") == (200, {"status": "live"})
    status, body = call(server, "/v1/models/tiny")
    assert status == 200 and [v["version"] for v in body["model_version_status"]] == ["2", "1"]
    assert call(server, "/v1/models/tiny/versions/1")[1]["model_version_status"][0]["state"] == "AVAILABLE"
    status, metadata = call(server, "/v1/models/fashion/metadata")
    signature = metadata["metadata"]["signature_def"]["signature_def"]["serving_default"]
    assert signature["inputs"]["image"]["dtype"] == "DT_FLOAT"
    assert [d["size"] for d in signature["inputs"]["image"]["tensor_shape"]["dim"]] == ["-1", "28", "28", "1"]


def test_predict_matches_the_library_in_row_and_columnar_form(server):
    images = (np.load(ROOT / "examples" / "data" / "fashion_mnist_1000.npy")[:5] / 255.0).astype(np.float32)[..., None]
    expected = kiln.Model(FASHION).run({"image": images})["probabilities"]
    status, rows = call(server, "/v1/models/fashion:predict", {"instances": images.tolist()})
    assert status == 200
    np.testing.assert_allclose(np.array(rows["predictions"]), expected, rtol=1e-5, atol=1e-6)
    status, columns = call(server, "/v1/models/fashion/versions/1:predict", {"inputs": images.tolist()})
    assert status == 200
    np.testing.assert_allclose(np.array(columns["outputs"]), expected, rtol=1e-5, atol=1e-6)
    named = {"instances": [{"image": image.tolist()} for image in images[:2]]}
    np.testing.assert_allclose(np.array(call(server, "/v1/models/fashion:predict", named)[1]["predictions"]), expected[:2],
                               rtol=1e-5, atol=1e-6)


def test_images_in_b64_or_as_raw_bodies_go_through_preprocess_json(server):
    import base64

    import cv2
    folder = ROOT / "examples" / "data" / "fashion_mnist_1000" / "Bag"
    paths = sorted(folder.iterdir())[:3]
    pixels = np.stack([cv2.imread(str(path), cv2.IMREAD_GRAYSCALE) for path in paths])
    expected = kiln.Model(FASHION).run({"image": (pixels / 255.0).astype(np.float32)[..., None]})["probabilities"]
    instances = [{"b64": base64.b64encode(path.read_bytes()).decode()} for path in paths]
    status, body = call(server, "/v1/models/fashion:predict", {"instances": instances})
    assert status == 200, body
    np.testing.assert_allclose(np.array(body["predictions"]), expected, rtol=1e-5, atol=1e-6)
    named = [{"image": instance} for instance in instances[:1]]
    np.testing.assert_allclose(call(server, "/v1/models/fashion:predict", {"instances": named})[1]["predictions"], expected[:1],
                               rtol=1e-5, atol=1e-6)
    # A colour JPEG of another size: made grey and resized by the server.
    photo = (ROOT / "examples" / "data" / "photos" / "rocket.jpg").read_bytes()
    status, body = call(server, "/v1/models/fashion:predict", photo, content_type="image/jpeg")
    assert status == 200 and len(body["predictions"]) == 1 and abs(sum(body["predictions"][0]) - 1) < 1e-4
    status, body = call(server, "/v1/models/fashion:predict", paths[0].read_bytes(), content_type="image/png")
    np.testing.assert_allclose(body["predictions"], expected[:1], rtol=1e-5, atol=1e-6)
    # Bad images are 400s that say which instance.
    status, body = call(server, "/v1/models/fashion:predict", {"instances": [instances[0], {"b64": "bm90IGFuIGltYWdl"}]})
    assert status == 400 and "instances[1]" in body["error"]
    status, body = call(server, "/v1/models/fashion:predict", {"instances": [{"b64": "***"}]})
    assert status == 400 and "base64" in body["error"]
    status, body = call(server, "/v1/models/fashion:predict", photo[:5000], content_type="image/jpeg")
    assert status == 400 and "JPEG" in body["error"]
    status, body = call(server, "/v1/models/tiny:predict", photo, content_type="image/jpeg")
    assert status == 400 and "preprocess.json" in body["error"]
    # A tiny PNG that declares 60000 x 60000 pixels is refused from its header.
    import struct
    import zlib

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    bomb = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 60000, 60000, 8, 2, 0, 0, 0)) + \
        chunk(b"IDAT", zlib.compress(b"\x00" * 1000)) + chunk(b"IEND", b"")
    status, body = call(server, "/v1/models/fashion:predict", bomb, content_type="image/png")
    assert status == 400 and "60000×60000" in body["error"], body


def test_tensor_bodies_parse_the_same_on_the_fast_and_the_general_path(server):
    images = (np.load(ROOT / "examples" / "data" / "fashion_mnist_1000.npy")[:3] / 255.0)[..., None]
    images[0, 0, 0, 0] = -1.5e-3  # negative numbers and exponents
    expected = kiln.Model(FASHION).run({"image": images.astype(np.float32)})["probabilities"]
    plain = json.dumps({"instances": images.tolist()}).encode()
    spaced = json.dumps({"instances": images.tolist()}, indent=2).encode().replace(b"0.0,", b"0e0 ,")
    general = json.dumps({"signature_name": "serving_default", "instances": images.tolist()}).encode()  # another key
    for body in (plain, spaced, general):
        status, answer = call(server, "/v1/models/fashion:predict", body)
        assert status == 200, answer
        np.testing.assert_allclose(np.array(answer["predictions"]), expected, rtol=1e-5, atol=1e-6)
    for bad, message in [(b'{"instances": [[[[1.0]]], [[[1.0], [2.0]]]]}', "shape"), (b'{"instances": [[[[NaN]]]]}', "JSON"),
                         (b'{"instances": [[[[1.0]]]] , }', "JSON"), (b'{"instances": [[[[01x]]]]}', "JSON")]:
        status, answer = call(server, "/v1/models/fashion:predict", bad)
        assert status == 400 and message in answer["error"], (bad, answer)


def test_dynamic_batching_runs_concurrent_requests_together(server):
    from concurrent.futures import ThreadPoolExecutor
    images = (np.load(ROOT / "examples" / "data" / "fashion_mnist_1000.npy")[:8] / 255.0).astype(np.float32)[..., None]
    expected = kiln.Model(FASHION).run({"image": images})["probabilities"]
    bodies = [{"instances": images[index:index + 1].tolist()} for index in range(6)] + [{"instances": images[6:8].tolist()}]
    with ThreadPoolExecutor(len(bodies)) as pool:
        answers = list(pool.map(lambda body: call(server, "/v1/models/batched:predict", body), bodies))
    assert all(status == 200 for status, _ in answers), answers
    got = np.concatenate([np.array(body["predictions"]) for _, body in answers])
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)  # each request got its own rows back
    text = urllib.request.urlopen(server + "/metrics").read().decode()
    count = next(float(line.split()[-1]) for line in text.splitlines() if line.startswith('kiln_batch_size_count{model="batched"}'))
    total = next(float(line.split()[-1]) for line in text.splitlines() if line.startswith('kiln_batch_size_sum{model="batched"}'))
    assert total == 8 and count < 7  # 8 instances in fewer model runs than requests


def test_a_full_queue_answers_429(server):
    from concurrent.futures import ThreadPoolExecutor
    body = {"instances": np.zeros((1, 28, 28, 1)).tolist()}
    with ThreadPoolExecutor(12) as pool:
        statuses = [status for status, _ in pool.map(lambda _: call(server, "/v1/models/narrow:predict", body), range(12))]
    assert 200 in statuses and 429 in statuses and set(statuses) <= {200, 429}, statuses
    status, answer = call(server, "/v1/models/narrow:predict", {"instances": np.zeros((2, 28, 28, 1)).tolist()})
    assert status == 400 and "max_batch_size" in answer["error"]


def test_errors_are_json_with_the_right_status(server):
    status, body = call(server, "/v1/models/fashion:predict", {"instances": [[[1.0, 2.0]]]})
    assert status == 400 and body["error"] == "input 'image': expected shape [N, 28, 28, 1], got [1, 1, 2]"
    assert call(server, "/v1/models/nope:predict", {"instances": [[1]]})[0] == 404
    assert call(server, "/v1/models/tiny/versions/7:predict", {"instances": [[1]]})[0] == 404
    status, body = call(server, "/v1/models/fashion:predict", b"{not json")
    assert status == 400 and "not valid JSON" in body["error"]
    assert call(server, "/v1/models/fashion:predict", {"instances": []})[0] == 400
    assert call(server, "/v1/models/fashion:predict", {"something": 1})[0] == 400
    assert call(server, "/v1/models/fashion:predict", {"instances": [["a"]]})[0] == 400
    assert call(server, "/v1/models/fashion:predict", b"GIF89a", content_type="image/gif")[0] == 415
    status, body = call(server, "/v1/models/fashion:predict", b"[" + b"0," * 1_500_000 + b"0]")
    assert status == 413 and "larger than" in body["error"]
    assert call(server, "/v2/other")[0] == 404
    # The server is still healthy after all that.
    assert call(server, "/v1/health/ready")[0] == 200


def test_raw_feature_records_go_through_the_transform_graph(server, tmp_path):
    records = [{"age": 18, "education": "1. < HS Grad", "wage": 75.0}, {"age": 60, "education": "5. Advanced Degree", "wage": 200.5},
               {"age": 33, "education": "never seen", "wage": 10.0}]
    status, body = call(server, "/v1/models/wages:predict", {"instances": records})
    assert status == 200, body
    graph = kiln.transform.analyze(WAGE_SPEC, ROOT / "examples" / "data" / "wage_islr.csv")
    features = [graph.apply_instance(record) for record in records]
    matrix = np.array([[f["age_z"], *f["education"], f["wage_bucket"]] for f in features], dtype=np.float32)
    logits = matrix @ WEIGHTS
    expected = np.exp(logits - logits.max(axis=1, keepdims=True))
    expected /= expected.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(np.array(body["predictions"]), expected, rtol=1e-5, atol=1e-6)
    status, classified = call(server, "/v1/models/wages:classify", {"instances": records, "top_k": 1})
    assert status == 200 and [r[0][0] for r in classified["results"]] == [["low", "high"][i] for i in expected.argmax(axis=1)]
    status, body = call(server, "/v1/models/wages:predict", {"instances": [{"age": "old", "education": "x", "wage": 1}]})
    assert status == 400 and body["error"] == 'instances[0].age: expected int, got a string "old"'
    status, body = call(server, "/v1/models/wages:predict", {"instances": [{"education": "x", "wage": 1}]})
    assert status == 400 and "age_z" in body["error"]
    assert call(server, "/v1/models/fashion:classify", {"instances": [[[[0.0]] * 28] * 28]})[0] == 404


def test_prometheus_metrics_count_requests(server):
    call(server, "/v1/models/tiny/versions/1")
    images = np.zeros((3, 28, 28, 1)).tolist()
    assert call(server, "/v1/models/fashion:predict", {"instances": images})[0] == 200
    for path in ("/metrics", "/monitoring/prometheus/metrics"):
        with urllib.request.urlopen(server + path, timeout=30) as response:
            text = response.read().decode()
            assert response.headers["Content-Type"].startswith("text/plain")
        assert 'kiln_requests_total{model="tiny",version="1",status="200"}' in text
        assert 'kiln_request_duration_seconds_count{model="fashion"}' in text
        assert 'kiln_request_instances_bucket{model="fashion",le="4.0"}' in text
        assert 'kiln_model_load_seconds{model="wages",version="1"}' in text


def test_binary_tensor_bodies_match_the_library(server):
    images = (np.load(ROOT / "examples" / "data" / "fashion_mnist_1000.npy")[:4] / 255.0).astype(np.float32)[..., None]
    expected = kiln.Model(FASHION).run({"image": images})["probabilities"]
    status, body, headers = call(server, "/v1/models/fashion:predict", images.tobytes(), "application/octet-stream",
                                 {"Kiln-Shape": "4,28,28,1"}, with_headers=True)
    assert status == 200 and headers["Kiln-Instances"] == "4" and headers["Kiln-Model-Version"] == "1", body
    np.testing.assert_allclose(np.array(body["predictions"]), expected, rtol=1e-5, atol=1e-6)
    status, body = call(server, "/v1/models/fashion:predict", images.tobytes(), "application/octet-stream", {"Kiln-Shape": "3,28,28,1"})
    assert status == 400 and body["error"] == "input 'image': shape [3,28,28,1] of float32 needs 9408 bytes, the body has 12544"
    status, body = call(server, "/v1/models/fashion:predict", images.tobytes(), "application/octet-stream", {"Kiln-Input": "pixels", "Kiln-Shape": "4,28,28,1"})
    assert status == 400 and "no input 'pixels'" in body["error"]


def test_admin_endpoints_are_off_without_a_token(server):
    status, body = call(server, "/v1/admin/reload")
    assert status == 403 and "--admin-token" in body["error"]


def test_versions_swap_under_load_with_zero_failed_requests(tmp_path):
    """New versions dropped into the folder while four clients keep predicting: every request
    succeeds, the new version takes over, a broken version is reported while the last good one
    keeps serving, and the admin endpoints reload and unload."""
    import threading
    models = tmp_path / "models"

    def publish(version, source=None, data=None):
        """Written aside, then moved into place: a scan never sees half a file."""
        staging = tmp_path / f"staging{version}"
        staging.mkdir()
        if source:
            shutil.copy(source, staging / "model.onnx")
        else:
            (staging / "model.onnx").write_bytes(data)
        os.rename(staging, models / "m" / str(version))
    (models / "m").mkdir(parents=True)
    publish(1, TINY)
    process, url = start_server(models, "--poll-seconds", "0.2", env={"KILN_ADMIN_TOKEN": "t0ken"})
    body = json.dumps({"instances": np.zeros((1, 3, 16, 16)).tolist()}).encode()
    expected = kiln.Model(TINY).run({"image": np.zeros((1, 3, 16, 16), np.float32)})["softmax44"]
    results, stop = [], threading.Event()

    def client():
        while not stop.is_set():
            status, answer, headers = call(url, "/v1/models/m:predict", body, with_headers=True)
            results.append((status, headers["Kiln-Model-Version"] if status == 200 else answer))
            if status == 200:
                np.testing.assert_allclose(np.array(answer["predictions"]), expected, rtol=1e-5, atol=1e-6)
    try:
        threads = [threading.Thread(target=client) for _ in range(4)]
        for thread in threads:
            thread.start()
        import time
        def wait_for(version, check):
            deadline = time.time() + 20
            while time.time() < deadline:
                states = {v["version"]: v for v in call(url, "/v1/models/m")[1]["model_version_status"]}
                if check(states.get(version, {})):
                    return states
                time.sleep(0.05)
            raise AssertionError(f"version {version} never got there: {states}")
        for version in (2, 3):
            time.sleep(0.5)
            publish(version, TINY)
            wait_for(str(version), lambda state: state.get("state") == "AVAILABLE")
        time.sleep(0.5)
        publish(4, data=b"not a model")
        states = wait_for("4", lambda state: state.get("status", {}).get("error_code") == "UNKNOWN")
        time.sleep(0.5)
        stop.set()
        for thread in threads:
            thread.join()
        assert results and all(status == 200 for status, _ in results), [r for r in results if r[0] != 200][:3]
        served = [version for _, version in results]
        assert served[0] == "1" and served[-1] == "3" and "3" in served
        assert states["4"]["state"] == "END" and "not a valid ONNX model" in states["4"]["status"]["error_message"]
        assert states["1"]["state"] == "END" and states["2"]["state"] == "END"
        assert call(url, "/v1/admin/reload")[0] == 401
        status, reload = call(url, "/v1/admin/reload", headers={"Authorization": "Bearer t0ken"})
        assert status == 200 and reload["failures"] == 1 and reload["events"][0].startswith("failed to load m version 4")
        status, _ = call(url, "/v1/admin/models/m/versions/3:unload", headers={"Authorization": "Bearer t0ken"})
        assert status == 200
        status, body = call(url, "/v1/models/m:predict", body)
        assert status == 503 and "version 4 failed to load" in body["error"]
        assert call(url, "/v1/health/ready")[0] == 503
        text = urllib.request.urlopen(url + "/metrics").read().decode()
        assert 'kiln_model_load_failures_total{model="m"} 2' in text
    finally:
        stop.set()
        process.terminate()
        process.wait(timeout=30)


def test_sigterm_finishes_the_requests_in_flight_and_exits_0(tmp_path):
    import signal
    import threading
    import time
    (tmp_path / "slow" / "1").mkdir(parents=True)
    shutil.copy(TINY, tmp_path / "slow" / "1" / "model.onnx")
    (tmp_path / "slow" / "1" / "config.json").write_text(json.dumps({"max_batch_size": 8, "batch_timeout_micros": 1000000}))
    process, url = start_server(tmp_path)
    answers = []
    request = threading.Thread(target=lambda: answers.append(call(url, "/v1/models/slow:predict", {"instances": np.zeros((1, 3, 16, 16)).tolist()})))
    request.start()
    time.sleep(0.4)  # the request waits in the batcher for a second
    process.send_signal(signal.SIGTERM)
    request.join()
    assert process.wait(timeout=30) == 0
    assert answers[0][0] == 200 and len(answers[0][1]["predictions"]) == 1


def test_request_timeouts_answer_504_and_drop_slow_clients(tmp_path):
    import socket
    import time
    (tmp_path / "slow" / "1").mkdir(parents=True)
    shutil.copy(TINY, tmp_path / "slow" / "1" / "model.onnx")
    (tmp_path / "slow" / "1" / "config.json").write_text(json.dumps({"max_batch_size": 8, "batch_timeout_micros": 3000000}))
    process, url = start_server(tmp_path, "--request-timeout", "1")
    try:
        start = time.time()
        status, body = call(url, "/v1/models/slow:predict", {"instances": np.zeros((1, 3, 16, 16)).tolist()})
        assert status == 504 and "request timeout" in body["error"] and time.time() - start < 2.5
        host, port = url.rsplit("/", 1)[1].split(":")
        slow = socket.create_connection((host, int(port)))
        slow.sendall(b"POST /v1/models/slow:predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{")
        slow.settimeout(5)
        start = time.time()
        assert slow.recv(100) == b"" and time.time() - start < 3  # closed after the timeout, not held open
        assert call(url, "/v1/health/live")[0] == 200
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_a_port_in_use_is_one_clear_line_and_exit_1(server):
    port = server.rsplit(":", 1)[1]
    result = subprocess.run([CLI, "serve", "--model-dir", str(ROOT / "examples" / "models"), "--port", port],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 1 and f"cannot listen on 127.0.0.1:{port}" in result.stderr, result.stderr
    assert call(server, "/v1/health/live")[0] == 200
