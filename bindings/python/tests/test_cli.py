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


TRANSFORM_SPEC = {"features": [
    {"output": "age_z", "op": "scale_to_z_score", "input": "age"},
    {"output": "wage_01", "op": "scale_to_0_1", "input": "wage"},
    {"output": "age_bucket", "op": "bucketize", "input": "age", "num_buckets": 4},
    {"output": "edu_id", "op": "compute_and_apply_vocabulary", "input": "education", "top_k": 3, "num_oov_buckets": 1},
    {"output": "words", "op": "tfidf", "input": "jobclass", "vocab_size": 1000},
]}
WAGES = ROOT / "examples" / "data" / "wage_islr.csv"


def test_transform_analyze_apply_and_merge(tmp_path):
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps(TRANSFORM_SPEC))
    kiln_cli("transform", "analyze", "--spec", spec, WAGES, "-o", tmp_path / "graph.json", "--partial-out", tmp_path / "all.bin")
    graph = json.loads((tmp_path / "graph.json").read_text())
    assert graph["format"] == "kiln.transform_graph/1" and graph["rows_analyzed"] == 3000
    kiln_cli("transform", "apply", tmp_path / "graph.json", WAGES, "-o", tmp_path / "out.csv")
    header = (tmp_path / "out.csv").read_text().splitlines()[0]
    assert header == "age_z,wage_01,age_bucket,edu_id,words_0,words_1"
    kiln_cli("transform", "apply", tmp_path / "graph.json", WAGES, "-o", tmp_path / "out.npy")
    matrix = np.load(tmp_path / "out.npy")
    assert matrix.shape == (3000, 6) and matrix.dtype == np.float64
    library = kiln.transform.TransformGraph.load(tmp_path / "graph.json").apply(
        {k: v for k, v in kiln.read_csv(WAGES).items() if k in ("age", "wage", "education", "jobclass")})
    np.testing.assert_array_equal(matrix[:, 0], library["age_z"])
    # Two halves analysed separately and merged give the graph of the whole file.
    lines = WAGES.read_text().splitlines(keepends=True)
    (tmp_path / "a.csv").write_text("".join(lines[:1200]))
    (tmp_path / "b.csv").write_text(lines[0] + "".join(lines[1200:]))
    for part in "ab":
        kiln_cli("transform", "analyze", "--spec", spec, tmp_path / f"{part}.csv", "-o", tmp_path / f"{part}.json",
                 "--partial-out", tmp_path / f"{part}.bin")
    kiln_cli("transform", "merge", tmp_path / "a.bin", tmp_path / "b.bin", "-o", tmp_path / "merged.json")
    merged = json.loads((tmp_path / "merged.json").read_text())
    assert merged["rows_analyzed"] == 3000
    for mine, whole in zip(merged["features"], graph["features"]):
        for key in ("vocabulary", "boundaries", "idf", "min", "max"):
            assert mine.get(key) == whole.get(key), key
        for key in ("mean", "std"):
            if key in whole:
                assert abs(mine[key] - whole[key]) <= 1e-12 * abs(whole[key])


def test_transform_analyze_with_transformed_equals_analyze_then_apply(tmp_path):
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps(TRANSFORM_SPEC))
    kiln_cli("transform", "analyze", "--spec", spec, WAGES, "-o", tmp_path / "graph.json")
    for suffix in ("csv", "npy"):
        kiln_cli("transform", "apply", tmp_path / "graph.json", WAGES, "-o", tmp_path / f"two.{suffix}")
        result = kiln_cli("transform", "analyze", "--spec", spec, WAGES, "-o", tmp_path / "one.json",
                          "--transformed", tmp_path / f"one.{suffix}")
        assert "analyzed and transformed 3000 rows" in result.stdout
        assert (tmp_path / "one.json").read_bytes() == (tmp_path / "graph.json").read_bytes()
        assert (tmp_path / f"one.{suffix}").read_bytes() == (tmp_path / f"two.{suffix}").read_bytes()
    result = kiln_cli("transform", "analyze", "--spec", spec, WAGES, "-o", tmp_path / "g.json",
                      "--transformed", tmp_path / "out.txt", check=False)
    assert result.returncode != 0 and "--transformed must end in .csv or .npy" in result.stderr


def test_transform_errors_are_one_line_and_non_zero(tmp_path):
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps({"features": [{"output": "x", "op": "bucketize", "input": "age"}]}))
    result = kiln_cli("transform", "analyze", "--spec", spec, WAGES, "-o", tmp_path / "g.json", check=False)
    assert result.returncode != 0 and "features[0].num_buckets" in result.stderr
    spec.write_text(json.dumps({"features": [{"output": "x", "op": "log1p", "input": "agee"}]}))
    result = kiln_cli("transform", "analyze", "--spec", spec, WAGES, "-o", tmp_path / "g.json", check=False)
    assert result.returncode != 0 and "'age' (int)" in result.stderr
    bad = tmp_path / "bad.csv"
    bad.write_text("age\n1\n2,3\n")
    spec.write_text(json.dumps({"features": [{"output": "x", "op": "log1p", "input": "age"}]}))
    result = kiln_cli("transform", "analyze", "--spec", spec, bad, "-o", tmp_path / "g.json", check=False)
    assert result.returncode != 0 and "line 3: expected 1 fields, found 2" in result.stderr
    result = kiln_cli("transform", "analyze", "--spec", spec, bad, "-o", tmp_path / "g.json", "--bad-rows", "skip")
    assert "skipped 1 malformed rows" in result.stderr
    result = kiln_cli("transform", "merge", tmp_path / "g.json", "-o", tmp_path / "m.json", check=False)
    assert result.returncode != 0 and "partial transform analysis" in result.stderr


def peak_memory_mb(*arguments):
    """Runs the CLI and returns its peak resident memory (MB)."""
    process = subprocess.Popen([CLI, *map(str, arguments)], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, process.stderr.read()
    return usage.ru_maxrss / 1024


def test_transform_analysis_streams_in_bounded_memory(tmp_path):
    """The analysis holds sketches and a few blocks, not the data: tripling the file leaves its
    peak memory where it was, and what it adds to the process stays below the file's size."""
    peaks = {}
    for rows in (100_000, 300_000):
        data = tmp_path / f"table-{rows}.csv"
        kiln_cli("bench", "transform", "--rows", rows, "--write-csv", data)
        peaks[rows] = peak_memory_mb("transform", "analyze", "--spec", f"{data}.spec.json", data,
                                     "-o", tmp_path / "graph.json", "--threads", "1")
    size_mb = (tmp_path / "table-300000.csv").stat().st_size / 1e6
    baseline = peak_memory_mb("--version")
    assert peaks[300_000] - peaks[100_000] < 8, peaks
    assert peaks[300_000] - baseline < size_mb * 0.75, (peaks, baseline, size_mb)
    graph = json.loads((tmp_path / "graph.json").read_text())
    assert graph["rows_analyzed"] == 300_000 and len(graph["output_schema"]) == 29
