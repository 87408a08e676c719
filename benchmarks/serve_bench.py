"""Model servers side by side, on the same requests, loaded by `kiln load` with closed-loop users
at concurrency 1, 16 and 64 on loopback:
- `cnn`: a small ONNX CNN, one 3×64×64 float instance per request (TF Serving's row format);
  `kiln serve` against FastAPI + uvicorn + pydantic + onnxruntime (the usual Python wrapper).
- `features`: one raw wage record per request (numbers and strings), transformed (z-score,
  0–1 scaling, one-hot vocabularies, quantile buckets) and classified by a logistic regression;
  `kiln serve` with a transform graph and the regression as ONNX, against FastAPI + pandas +
  a fitted scikit-learn Pipeline (ColumnTransformer + LogisticRegression).
Reports requests/s, p50/p99 latency, and requests per server CPU-second (user + system of the
server process, from /proc), interleaved rounds, medians. The load generator shares the machine.

Usage: benchmarks/run serve [--rounds 2] [--seconds 8] [--users 1,16,64] [--workloads cnn,features] [--no-save]
"""
import argparse
import datetime
import json
import os
import socket
import statistics
import subprocess
import sys
import shutil
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import recording

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
KILN = str(ROOT / ".build" / "release" / "kiln")
sys.path.insert(0, str(ROOT / "bindings" / "python" / "tests"))
from onnx_models import Builder, F  # noqa: E402

CNN_APP = """
import os

import numpy as np
import onnxruntime as ort
from fastapi import FastAPI
from pydantic import BaseModel

options = ort.SessionOptions()
options.intra_op_num_threads = 1
options.inter_op_num_threads = 1
session = ort.InferenceSession(os.environ["KILN_BENCH_MODEL"], options, providers=["CPUExecutionProvider"])
app = FastAPI()


class Request(BaseModel):
    instances: list[list[list[list[float]]]]


@app.post("/v1/models/cnn:predict")
def predict(request: Request):
    outputs = session.run(None, {"image": np.asarray(request.instances, dtype=np.float32)})[0]
    return {"predictions": outputs.tolist()}
"""

FEATURES_APP = """
import os
import pickle

import pandas as pd
from fastapi import FastAPI
from pydantic import BaseModel

with open(os.environ["KILN_BENCH_MODEL"], "rb") as file:
    pipeline = pickle.load(file)
app = FastAPI()


class Record(BaseModel):
    age: float
    year: float
    maritl: str
    education: str
    jobclass: str
    wage: float


class Request(BaseModel):
    instances: list[Record]


@app.post("/v1/models/wages:predict")
def predict(request: Request):
    frame = pd.DataFrame([record.model_dump() for record in request.instances])
    return {"predictions": pipeline.predict_proba(frame).tolist()}
"""

WAGES = ROOT / "examples" / "data" / "wage_islr.csv"
FEATURE_SPEC = {"features": [
    {"output": "age_z", "op": "scale_to_z_score", "input": "age"},
    {"output": "year_01", "op": "scale_to_0_1", "input": "year"},
    {"output": "maritl", "op": "one_hot", "input": "maritl"},
    {"output": "education", "op": "one_hot", "input": "education"},
    {"output": "jobclass", "op": "one_hot", "input": "jobclass"},
    {"output": "wage_bucket", "op": "bucketize", "input": "wage", "num_buckets": 4},
]}


def small_cnn():
    """conv 3→16 s2, ReLU, conv 16→32 s2, ReLU, global average pool, dense 10, softmax."""
    b = Builder(5, 17)
    x = b.node("Relu", [b.conv("image", 3, 16, 3, stride=2)])
    x = b.node("Relu", [b.conv(x, 16, 32, 3, stride=2)])
    x = b.node("Flatten", [b.node("GlobalAveragePool", [x])])
    x = b.node("Gemm", [x, b.weights(10, 32), b.const(np.zeros(10, np.float32))], transB=1)
    b.node("Softmax", [x], axis=1)
    return b.model([("image", F, ["N", 3, 64, 64])], [(b.nodes[-1].output[0], F, ["N", 10])])


def prepare_cnn(folder):
    """The model folder, the peer's model file, the request body."""
    (folder / "models" / "cnn" / "1").mkdir(parents=True)
    model_path = folder / "models" / "cnn" / "1" / "model.onnx"
    model_path.write_bytes(small_cnn())
    instance = np.random.default_rng(0).random((1, 3, 64, 64)).round(4)  # float64: short reprs, "0.1234"
    body_path = folder / "cnn.json"
    body_path.write_text(json.dumps({"instances": instance.tolist()}))
    return model_path, body_path


def prepare_features(folder):
    """Both sides fit on the bundled wage data to predict health insurance: Kiln's transform graph
    (`kiln transform analyze`) + a logistic regression on its features exported as ONNX; the
    peer's scikit-learn Pipeline of the same transforms + LogisticRegression, pickled."""
    import pickle

    import onnx
    import pandas as pd
    from onnx import TensorProto, helper
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import KBinsDiscretizer, MinMaxScaler, OneHotEncoder, StandardScaler
    version = folder / "models" / "wages" / "1"
    version.mkdir(parents=True)
    (folder / "spec.json").write_text(json.dumps(FEATURE_SPEC))
    subprocess.run([KILN, "transform", "analyze", "--spec", str(folder / "spec.json"), str(WAGES), "-o", str(version / "transform.json")],
                   check=True, capture_output=True)
    subprocess.run([KILN, "transform", "apply", str(version / "transform.json"), str(WAGES), "-o", str(folder / "features.csv")],
                   check=True, capture_output=True)
    data = pd.read_csv(WAGES)
    label = (data["health_ins"] == "1. Yes").to_numpy()
    features = pd.read_csv(folder / "features.csv").to_numpy(np.float32)
    regression = LogisticRegression(max_iter=1000).fit(features, label)
    weights = np.stack([-regression.coef_[0], regression.coef_[0]], axis=1).astype(np.float32) / 2
    bias = np.array([-regression.intercept_[0], regression.intercept_[0]], np.float32) / 2
    width = features.shape[1]
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["features", "w"], ["logits0"]), helper.make_node("Add", ["logits0", "b"], ["logits"]),
         helper.make_node("Softmax", ["logits"], ["probabilities"], axis=1)],
        "wages", [helper.make_tensor_value_info("features", TensorProto.FLOAT, ["N", width])],
        [helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, ["N", 2])],
        [helper.make_tensor("w", TensorProto.FLOAT, weights.shape, weights.flatten().tolist()),
         helper.make_tensor("b", TensorProto.FLOAT, bias.shape, bias.tolist())])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), version / "model.onnx")
    columns = ["age", "year", "maritl", "education", "jobclass", "wage"]
    pipeline = make_pipeline(ColumnTransformer([
        ("age", StandardScaler(), ["age"]), ("year", MinMaxScaler(), ["year"]),
        ("categories", OneHotEncoder(handle_unknown="ignore"), ["maritl", "education", "jobclass"]),
        ("wage", KBinsDiscretizer(n_bins=4, encode="ordinal", strategy="quantile", quantile_method="averaged_inverted_cdf"), ["wage"])]),
        LogisticRegression(max_iter=1000))
    pipeline.fit(data[columns], label)
    model_path = folder / "wages.pkl"
    model_path.write_bytes(pickle.dumps(pipeline))
    record = {column: (value.item() if hasattr(value, "item") else value) for column, value in data[columns].iloc[7].items()}
    body_path = folder / "features.json"
    body_path.write_text(json.dumps({"instances": [record]}))
    return model_path, body_path


WORKLOADS = {"cnn": ("cnn", CNN_APP, prepare_cnn), "features": ("wages", FEATURES_APP, prepare_features)}


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def cpu_seconds(pid):
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wait_ready(port, process, ready_path=None, deadline=60):
    """Until the port accepts connections and, with `ready_path`, that route answers 200."""
    end = time.time() + deadline
    while time.time() < end:
        if process.poll() is not None:
            sys.exit(f"server exited: {process.args}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                pass
            if ready_path is None:
                return
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{ready_path}", timeout=1) as response:
                if response.status == 200:
                    return
        except (OSError, urllib.error.URLError):
            time.sleep(0.1)
    sys.exit(f"server did not start: {process.args}")


def start(engine, workload, folder, model_path):
    name, app, _ = WORKLOADS[workload]
    port = free_port()
    if engine == "kiln":
        models = folder / "served"
        if models.exists():
            shutil.rmtree(models)
        (models / name).mkdir(parents=True)
        shutil.copytree(folder / "models" / name / "1", models / name / "1")
        command = [KILN, "serve", "--model-dir", str(models), "--port", str(port), "--threads", "1"]
        env = os.environ
    else:
        (folder / f"{workload}_app.py").write_text(app)
        command = [sys.executable, "-m", "uvicorn", f"{workload}_app:app", "--port", str(port), "--workers", "1",
                   "--log-level", "warning", "--app-dir", str(folder)]
        env = dict(os.environ, KILN_BENCH_MODEL=str(model_path), OMP_NUM_THREADS="1")
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_ready(port, process, "/v1/health/ready" if engine == "kiln" else None)
    return process, f"http://127.0.0.1:{port}/v1/models/{name}:predict"


def measure(engine, workload, users, args, folder, model_path, body_path):
    process, url = start(engine, workload, folder, model_path)
    load = [KILN, "load", url, "-X", "POST", "-H", "Content-Type: application/json", "--body", f"@{body_path}", "--quiet"]
    try:
        # Warm up (first requests plan the model, Python imports lazily), then measure.
        subprocess.run(load + ["--users", "2", "--duration", "1s"], check=True, capture_output=True)
        before = cpu_seconds(process.pid)
        report = folder / f"{engine}.json"
        subprocess.run(load + ["--users", str(users), "--duration", f"{args.seconds}s", "--timeout", "30s", "--json", str(report)],
                       check=True, capture_output=True)
        cpu = cpu_seconds(process.pid) - before
        data = json.loads(report.read_text())
        return {"requests": data["requests"], "errors": data["errors"], "rate": data["rate"], "server_cpu_s": cpu,
                "per_cpu_s": data["requests"] / cpu, "p50_ms": data["latency_ms"]["p50"], "p99_ms": data["latency_ms"]["p99"]}
    finally:
        process.terminate()
        process.wait(timeout=30)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--users", default="1,16,64")
    parser.add_argument("--workloads", default="cnn,features")
    parser.add_argument("--no-save", action="store_true")
    args = parser.parse_args()
    levels = [int(level) for level in args.users.split(",")]
    workloads = args.workloads.split(",")
    folder = Path(tempfile.mkdtemp(prefix="kiln-serve-bench-"))
    prepared = {workload: WORKLOADS[workload][2](folder) for workload in workloads}
    samples = {f"{workload}@{users}": {"kiln": [], "fastapi": []} for workload in workloads for users in levels}
    for round_index in range(args.rounds):
        for key, runs in samples.items():
            workload, users = key.split("@")
            for engine in (["kiln", "fastapi"] if round_index % 2 == 0 else ["fastapi", "kiln"]):
                runs[engine].append(measure(engine, workload, int(users), args, folder, *prepared[workload]))
            print(f"[serve] round {round_index + 1}/{args.rounds} {key}: " + ", ".join(
                f"{engine} {result[-1]['rate']:.0f} req/s, {result[-1]['per_cpu_s']:.0f}/server CPU-s, p99 {result[-1]['p99_ms']:.1f} ms"
                for engine, result in runs.items()), file=sys.stderr)
    summary = {key: {engine: {field: statistics.median(run[field] for run in results) for field in results[0]}
                     for engine, results in runs.items()} for key, runs in samples.items()}
    date = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    commit = recording.commit()
    sizes = {workload: prepared[workload][1].stat().st_size for workload in workloads}
    lines = [f"## `benchmarks/run serve` — {date}, commit {commit}", "",
             f"{os.cpu_count()} cores, loopback, closed-loop users of `kiln load` for {args.seconds} s per run, {args.rounds} interleaved "
             "rounds, medians. Kiln: `kiln serve --threads 1`; peer: FastAPI + uvicorn (1 worker) + pydantic, with onnxruntime "
             "(1 thread) for `cnn` and pandas + a scikit-learn Pipeline for `features`. Server CPU = user + system of the server "
             "process. Workloads: `cnn` = a small ONNX CNN (3×64×64 input, two strided convolutions, pooling, dense, softmax), one "
             f"JSON instance per request ({sizes.get('cnn', 0) // 1024} KB); `features` = one raw wage record per request "
             f"({sizes.get('features', 0)} bytes: 3 numbers, 3 strings) through z-score, 0–1, one-hot and quantile-bucket "
             "transforms into a logistic regression.", "",
             "| workload @ users | server | requests/s | requests per server CPU-s | p50 ms | p99 ms | errors |",
             "|---|---|---|---|---|---|---|"]
    for key, engines in summary.items():
        for engine, values in engines.items():
            lines.append(f"| {key} | {engine} | {values['rate']:,.0f} | {values['per_cpu_s']:,.0f} | {values['p50_ms']:.2f} | "
                         f"{values['p99_ms']:.2f} | {values['errors']:.0f} |")
    lines += ["", "| workload @ users | Kiln ÷ FastAPI requests/s | requests per server CPU-s | p99 (Kiln ÷ FastAPI, lower is better) |",
              "|---|---|---|---|"]
    for key, engines in summary.items():
        kiln, peer = engines["kiln"], engines["fastapi"]
        lines.append(f"| {key} | {kiln['rate'] / peer['rate']:.2f}× | {kiln['per_cpu_s'] / peer['per_cpu_s']:.2f}× | "
                     f"{kiln['p99_ms'] / peer['p99_ms']:.3f} |")
    report = "\n".join(lines) + "\n"
    print(report)
    if not args.no_save:
        recording.save(f"serve-{date[:10]}", report,
                       {"date": date, "commit": commit, "args": vars(args), "samples": samples, "summary": summary})


if __name__ == "__main__":
    main()
