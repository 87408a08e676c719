"""The `kiln` command line: outputs, files and exit codes (KILN_CLI names the binary)."""
import json
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest

import kiln

ROOT = Path(__file__).resolve().parents[3]
CLI = os.environ.get("KILN_CLI", str(ROOT / ".build" / "debug" / "kiln-cli"))
MODEL = ROOT / "Tests" / "c" / "fixtures" / "tiny_cnn.onnx"


def kiln_cli(*arguments, check=True):
    result = subprocess.run([CLI, *map(str, arguments)], capture_output=True, text=True, timeout=120)
    if check:
        assert result.returncode == 0, result.stderr
    return result


def test_version_and_info():
    assert kiln_cli("--version").stdout.strip() == kiln.version()
    info = json.loads(kiln_cli("info", "--json").stdout)
    assert info["version"] == kiln.version() and info["openblas"]["core"]


def test_nn_info_reports_the_model():
    info = json.loads(kiln_cli("nn", "info", MODEL, "--json", "--kernels").stdout)
    assert info["inputs"] == [{"name": "image", "dtype": "float32", "shape": ["N", 3, 16, 16]}]
    assert info["operators"]["Conv"] == 4
    assert info["parameters"] > 0 and info["flops_per_image"] > 0
    assert any("winograd" in entry["kernel"] for entry in info["kernels"])


def test_nn_run_writes_what_the_library_computes(tmp_path):
    x = np.random.default_rng(0).standard_normal((3, 3, 16, 16)).astype(np.float32)
    np.save(tmp_path / "x.npy", x)
    kiln_cli("nn", "run", MODEL, "--input", f"image={tmp_path / 'x.npy'}", "--output-dir", tmp_path / "out", "--threads", 1)
    with kiln.Model(str(MODEL)) as model:
        expected = model.run({"image": x})
    for name, value in expected.items():
        np.testing.assert_allclose(np.load(tmp_path / "out" / f"{name}.npy"), value, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("arguments", [
    ["nn", "run", MODEL, "--input", "image=/nonexistent.npy", "--output-dir", "/tmp/kiln-out"],
    ["nn", "run", MODEL, "--input", "image", "--output-dir", "/tmp/kiln-out"],
    ["nn", "info", "/nonexistent.onnx"],
    ["nn", "info", __file__],
    ["bench", "gemm", "--shapes", "12x3"],
    ["bench", "nn", MODEL, "--batch", "0"],
])
def test_bad_input_exits_non_zero_with_one_line(arguments):
    result = kiln_cli(*arguments, check=False)
    assert result.returncode != 0
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert lines and lines[0].startswith("Error:"), result.stderr


def test_bench_json_lines():
    gemm = [json.loads(line) for line in kiln_cli("bench", "gemm", "--json", "--runs", 2, "--warmup", 0,
                                                  "--shapes", "64x64x64,32x48x16").stdout.splitlines()]
    assert [case["name"] for case in gemm] == ["sgemm 64x64x64", "sgemm 32x48x16"]
    for case in gemm:
        assert case["runs"] == 2 and case["best_ms"] <= case["median_ms"] and case["gflops"] > 0
    nn = json.loads(kiln_cli("bench", "nn", MODEL, "--batch", 2, "--threads", 1, "--runs", 3, "--warmup", 1, "--json").stdout)
    assert nn["runs"] == 3 and nn["batch"] == 2 and nn["images_per_s"] > 0 and nn["threads"] == 1
    assert {"best_ms", "median_ms", "kernel", "samples_ms"} <= set(nn)
