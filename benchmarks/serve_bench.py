"""Model servers side by side: `kiln serve` against FastAPI + uvicorn + onnxruntime (the usual
Python wrapper), the same small ONNX CNN, the same JSON request (one 3×64×64 float instance, TF
Serving's row format), loaded by `kiln load` with 8 closed-loop users on loopback. Reports
requests/s, latency, and requests per server CPU-second (user + system of the server process,
from /proc), interleaved rounds. The load generator shares the machine (2 cores here).

Usage: benchmarks/run serve [--rounds 2] [--seconds 10] [--users 8] [--no-save]
"""
import argparse
import datetime
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
KILN = str(ROOT / ".build" / "release" / "kiln")
sys.path.insert(0, str(ROOT / "bindings" / "python" / "tests"))
from onnx_models import Builder, F  # noqa: E402

FASTAPI_APP = '''
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
'''


def small_model():
    """conv 3→16 s2, ReLU, conv 16→32 s2, ReLU, global average pool, dense 10, softmax."""
    b = Builder(5, 17)
    x = b.node("Relu", [b.conv("image", 3, 16, 3, stride=2)])
    x = b.node("Relu", [b.conv(x, 16, 32, 3, stride=2)])
    x = b.node("Flatten", [b.node("GlobalAveragePool", [x])])
    x = b.node("Gemm", [x, b.weights(10, 32), b.const(np.zeros(10, np.float32))], transB=1)
    b.node("Softmax", [x], axis=1)
    return b.model([("image", F, ["N", 3, 64, 64])], [(b.nodes[-1].output[0], F, ["N", 10])])


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def cpu_seconds(pid):
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wait_ready(port, process, deadline=60):
    end = time.time() + deadline
    while time.time() < end:
        if process.poll() is not None:
            sys.exit(f"server exited: {process.args}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.1)
    sys.exit(f"server did not start: {process.args}")


def start(engine, folder, model_path):
    port = free_port()
    if engine == "kiln":
        command = [KILN, "serve", "--model-dir", str(folder / "models"), "--port", str(port), "--threads", "1"]
        env = os.environ
    else:
        (folder / "fastapi_app.py").write_text(FASTAPI_APP)
        command = [sys.executable, "-m", "uvicorn", "fastapi_app:app", "--port", str(port), "--workers", "1",
                   "--log-level", "warning", "--app-dir", str(folder)]
        env = dict(os.environ, KILN_BENCH_MODEL=str(model_path), OMP_NUM_THREADS="1")
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_ready(port, process)
    return process, f"http://127.0.0.1:{port}/v1/models/cnn:predict"


def measure(engine, args, folder, model_path, body_path):
    process, url = start(engine, folder, model_path)
    try:
        # Warm up (first requests plan the model), then measure.
        subprocess.run([KILN, "load", url, "-X", "POST", "-H", "Content-Type: application/json", "--body", f"@{body_path}",
                        "--users", "2", "--duration", "1s", "--quiet"], check=True, capture_output=True)
        before = cpu_seconds(process.pid)
        report = folder / f"{engine}.json"
        subprocess.run([KILN, "load", url, "-X", "POST", "-H", "Content-Type: application/json", "--body", f"@{body_path}",
                        "--users", str(args.users), "--duration", f"{args.seconds}s", "--quiet", "--json", str(report)],
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
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--users", type=int, default=8)
    parser.add_argument("--no-save", action="store_true")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="kiln-serve-bench-"))
    (folder / "models" / "cnn" / "1").mkdir(parents=True)
    model_path = folder / "models" / "cnn" / "1" / "model.onnx"
    model_path.write_bytes(small_model())
    instance = np.random.default_rng(0).random((1, 3, 64, 64)).round(4)  # float64: short reprs, "0.1234"
    body_path = folder / "body.json"
    body_path.write_text(json.dumps({"instances": instance.tolist()}))
    samples = {"kiln": [], "fastapi": []}
    for round_index in range(args.rounds):
        for engine in (["kiln", "fastapi"] if round_index % 2 == 0 else ["fastapi", "kiln"]):
            samples[engine].append(measure(engine, args, folder, model_path, body_path))
        print(f"[serve] round {round_index + 1}/{args.rounds}: " + ", ".join(
            f"{engine} {runs[-1]['rate']:.0f} req/s, {runs[-1]['per_cpu_s']:.0f}/server CPU-s" for engine, runs in samples.items()),
            file=sys.stderr)
    summary = {engine: {key: statistics.median(run[key] for run in runs) for key in runs[0]} for engine, runs in samples.items()}
    kiln, peer = summary["kiln"], summary["fastapi"]
    date = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    commit = subprocess.run(["git", "-C", str(ROOT), "describe", "--always", "--dirty"], capture_output=True, text=True).stdout.strip()
    lines = [f"## `benchmarks/run serve` — {date}, commit {commit}", "",
             f"{os.cpu_count()} cores. The same small ONNX CNN (input 3×64×64; two strided convolutions, pooling, dense, softmax), "
             f"one JSON instance per request ({body_path.stat().st_size // 1024} KB), {args.users} closed-loop users of `kiln load` for "
             f"{args.seconds} s on loopback; Kiln: `kiln serve --threads 1`; peer: FastAPI + uvicorn (1 worker) + pydantic + "
             f"onnxruntime (1 thread). {args.rounds} interleaved rounds, medians. Server CPU = user + system of the server process.", "",
             "| server | requests/s | requests per server CPU-s | p50 ms | p99 ms | errors |", "|---|---|---|---|---|---|"]
    for engine, values in summary.items():
        lines.append(f"| {engine} | {values['rate']:,.0f} | {values['per_cpu_s']:,.0f} | {values['p50_ms']:.2f} | {values['p99_ms']:.2f} | "
                     f"{values['errors']:.0f} |")
    lines += ["", f"Kiln ÷ FastAPI: {kiln['rate'] / peer['rate']:.2f}× requests/s, "
              f"{kiln['per_cpu_s'] / peer['per_cpu_s']:.2f}× requests per server CPU-second."]
    report = "\n".join(lines) + "\n"
    print(report)
    if not args.no_save:
        stem = f"serve-{date[:10]}"
        (ROOT / "benchmarks" / "results" / f"{stem}.md").write_text(report)
        (ROOT / "benchmarks" / "results" / f"{stem}.json").write_text(json.dumps(
            {"date": date, "commit": commit, "args": vars(args), "samples": samples, "summary": summary}, indent=1) + "\n")
        print(f"wrote benchmarks/results/{stem}.md and .json", file=sys.stderr)


if __name__ == "__main__":
    main()
