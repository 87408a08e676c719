"""Side-by-side benchmark harness: Kiln against its peers, interleaved, in one run.

Each suite names a Kiln command and peer commands that print the same JSON lines (one object
per case with `name`, `best_ms`, `median_ms`, `samples_ms` and a throughput key). Rounds
alternate which engine goes first; samples of all rounds are pooled per case, so both
engines see the same noise. Results: a Markdown table of ratios on stdout and in
benchmarks/results/<suite>-<date>.md, and a JSON record (machine, commit, date, all samples)
beside it.
"""
import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
from pathlib import Path

import recording

sys.path.insert(0, str(Path(__file__).resolve().parent))

ROOT = Path(__file__).resolve().parent.parent
KILN = str(ROOT / ".build" / "release" / "kiln")
PYTHON = sys.executable
THROUGHPUT_KEYS = ["gflops", "images_per_s", "rows_per_s", "mb_per_s", "requests_per_s"]


def gemm_suite(args, threads):
    common = ["--runs", str(args.runs), "--warmup", str(args.warmup), "--threads", str(threads)]
    if args.shapes:
        common += ["--shapes", args.shapes]
    return {
        "kiln": [[KILN, "bench", "gemm", "--json"] + common],
        "numpy": [[PYTHON, str(ROOT / "benchmarks" / "peers" / "numpy_gemm.py")] + common],
    }


def nn_suite(args, threads):
    import nn_models
    folder = ROOT / ".build" / "bench-models"
    nn_models.write(folder)
    common = ["--runs", str(args.runs), "--warmup", str(args.warmup), "--threads", str(threads)]
    cases = [(str(folder / model), batch) for model, batch in nn_models.CASES]
    return {
        "kiln": [[KILN, "bench", "nn", model, "--batch", str(batch), "--json"] + common for model, batch in cases],
        "onnxruntime": [[PYTHON, str(ROOT / "benchmarks" / "peers" / "onnxruntime_nn.py"), model, "--batch", str(batch)] + common
                        for model, batch in cases],
    }


def benchmark_table(rows):
    """The seeded benchmark table (kiln bench transform --write-csv), generated once."""
    folder = ROOT / ".build" / "bench-data"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"table-{rows}.csv"
    if not path.exists():
        subprocess.run([KILN, "bench", "transform", "--rows", str(rows), "--write-csv", str(path)], check=True)
    return path


def tfx_python():
    """The Python of the TFX peers' environment (TFDV, TF Transform)."""
    return os.environ.get("KILN_TFX_PYTHON", str(ROOT / ".venv-tfx" / "bin" / "python"))


def transform_suite(args, threads):
    path = benchmark_table(args.rows)
    # Each run takes seconds: a few runs per round, no warm-up (the file stays in the page cache).
    args.runs = min(args.runs, 3)
    common = ["--runs", str(args.runs), "--warmup", "0", "--threads", str(threads)]
    peers = ROOT / "benchmarks" / "peers"
    return {
        "kiln": [[KILN, "bench", "transform", "--csv", str(path), "--cases", case, "--json"] + common
                 for case in ("csv_read", "analyze_transform")],
        "pyarrow": [[PYTHON, str(peers / "pyarrow_csv.py"), str(path)] + common],
        "polars": [[PYTHON, str(peers / "polars_transform.py"), str(path), "--cases", case] + common
                   for case in ("csv_read", "analyze_transform")],
        "scikit-learn": [[PYTHON, str(peers / "sklearn_transform.py"), str(path), "--runs", "1", "--warmup", "0",
                          "--threads", str(threads)]],
        # TF Transform takes over a minute per run: one run per round.
        "tf-transform": [[tfx_python(), str(peers / "tft_transform.py"), str(path), "--runs", "1", "--warmup", "0",
                          "--threads", str(threads)]],
    }


def stats_suite(args, threads):
    path = benchmark_table(args.rows)
    args.runs = min(args.runs, 3)
    common = ["--runs", str(args.runs), "--warmup", "0", "--threads", str(threads)]
    return {
        "kiln": [[KILN, "bench", "stats", "--csv", str(path), "--json"] + common],
        "polars": [[PYTHON, str(ROOT / "benchmarks" / "peers" / "polars_stats.py"), str(path)] + common],
        # TFDV takes over a minute per run: one run per round.
        "tfdv": [[tfx_python(), str(ROOT / "benchmarks" / "peers" / "tfdv_stats.py"), str(path), "--runs", "1",
                  "--warmup", "0", "--threads", str(threads)]],
    }


AUGMENT_OPS = ("HorizontalFlip,VerticalFlip,Rotate,Affine,RandomResizedCrop,CenterCrop,RandomCrop,PadIfNeeded,"
               "RandomBrightnessContrast,HueSaturationValue,ToGray,GaussNoise,GaussianBlur,CoarseDropout")


def augment_suite(args, threads):
    """Every op at 224² (and Resize 256² -> 224², Normalize, the training pipeline), then at 512²."""
    common = ["--runs", str(args.runs), "--warmup", str(args.warmup), "--threads", str(threads)]
    peer = str(ROOT / "benchmarks" / "peers" / "augment_peers.py")
    return {
        "kiln": [[KILN, "bench", "augment", "--size", "224", "--json"] + common,
                 [KILN, "bench", "augment", "--size", "512", "--cases", AUGMENT_OPS, "--json"] + common],
        **{engine: [[PYTHON, peer, "--engine", engine, "--size", "224"] + common,
                    [PYTHON, peer, "--engine", engine, "--size", "512", "--cases", AUGMENT_OPS] + common]
           for engine in ("albumentations", "opencv", "pillow")},
    }


SUITES = {"gemm": gemm_suite, "nn": nn_suite, "transform": transform_suite, "stats": stats_suite, "augment": augment_suite}


def run_lines(command):
    completed = subprocess.run(command, check=True, capture_output=True, text=True)
    cases = [json.loads(line) for line in completed.stdout.splitlines() if line.startswith("{")]
    for case in cases:  # augment: the same op at another image size is another case
        if case.get("suite") == "augment" and case["name"] != "pipeline" and case.get("size", 224) != 224:
            case["name"] += f"@{case['size']}"
    return cases


def throughput_key(case):
    return next(key for key in THROUGHPUT_KEYS if key in case)


def pooled(cases):
    """Merges the cases of several rounds: all samples (and memory-floor samples) together, best and
    median recomputed."""
    merged = {}
    for case in cases:
        pooled_keys = [key for key in ("samples_ms", "memory_floor_samples_ms") if key in case]
        entry = merged.setdefault(case["name"], dict(case, **{key: [] for key in pooled_keys}))
        for key in pooled_keys:
            entry[key] += case[key]
    for entry in merged.values():
        key = throughput_key(entry)
        work = entry[key] * entry["best_ms"]  # throughput x time = work per run (unit-consistent)
        entry["best_ms"] = min(entry["samples_ms"])
        entry["median_ms"] = statistics.median(entry["samples_ms"])
        entry["runs"] = len(entry["samples_ms"])
        entry[key] = work / entry["best_ms"]
        entry["median_" + key] = work / entry["median_ms"]
    return merged


def machine():
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu": model, "cores": os.cpu_count(), "kernel": platform.release(), "python": platform.python_version(),
        "OPENBLAS_CORETYPE": os.environ.get("OPENBLAS_CORETYPE"), "OPENBLAS_L2_SIZE": os.environ.get("OPENBLAS_L2_SIZE"),
    }


def notes(case):
    """The kernel, and CPU seconds and peak memory when the case reports them."""
    parts = [case.get("kernel", "")]
    if "cpu_s" in case:
        parts.append(f"{case['cpu_s']:.2f} CPU s")
    if "peak_mb" in case:
        parts.append(f"peak {case['peak_mb']:.0f} MB")
    if "memory_floor_samples_ms" in case:
        floor = case["memory_floor_samples_ms"]
        parts.append(f"its bytes moved without the arithmetic: {min(floor):.3f} / {statistics.median(floor):.3f} ms "
                     f"({case['images_per_s'] * case['best_ms'] / min(floor):.0f} images_per_s best)")
    return "; ".join(part for part in parts if part)


def table(suite, results):
    lines = [f"### {suite}, {results['threads']} thread(s)", "",
             "| case | Kiln best / median ms | Kiln kernel / notes | " + " | ".join(
                 f"{peer} best / median ms | {peer} kernel / notes | {peer} ÷ Kiln (median) | {peer} ÷ Kiln (best)"
                 for peer in results["peers"]) + " |",
             "|---|---|---|" + "---|---|---|---|" * len(results["peers"])]
    for name, kiln_case in results["engines"]["kiln"].items():
        key = throughput_key(kiln_case)
        row = [name, f"{kiln_case['best_ms']:.3f} / {kiln_case['median_ms']:.3f} ({kiln_case[key]:.0f} {key} best)",
               notes(kiln_case)]
        for peer in results["peers"]:
            other = results["engines"][peer].get(name)
            if other is None:
                row += ["–", "–", "–", "–"]
                continue
            row += [f"{other['best_ms']:.3f} / {other['median_ms']:.3f} ({other[key]:.0f} {key} best)",
                    notes(other), f"{other['median_ms'] / kiln_case['median_ms']:.2f}×",
                    f"{other['best_ms'] / kiln_case['best_ms']:.2f}×"]
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("suite", choices=sorted(SUITES))
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds (default 5)")
    parser.add_argument("--runs", type=int, default=10, help="timed runs per case per round (default 10)")
    parser.add_argument("--warmup", type=int, default=10, help="untimed runs per case per round, both engines (default 10: steady state)")
    parser.add_argument("--threads", default="1,2", help="thread counts, one after the other (default 1,2)")
    parser.add_argument("--shapes", help="gemm: MxNxK,... instead of the default shapes")
    parser.add_argument("--rows", type=int, default=1_000_000, help="transform: rows of the generated table")
    parser.add_argument("--no-save", action="store_true", help="print only; write nothing under results/")
    args = parser.parse_args()

    record = {"suite": args.suite, "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
              "commit": recording.commit(), "machine": machine(),
              "kiln_info": json.loads(subprocess.run([KILN, "info", "--json"], check=True, capture_output=True,
                                                     text=True).stdout),
              "rounds": args.rounds, "results": []}
    sections = []
    for threads in [int(t) for t in args.threads.split(",")]:
        commands = SUITES[args.suite](args, threads)
        engines = list(commands)
        collected = {engine: [] for engine in engines}
        for round_index in range(args.rounds):
            order = engines if round_index % 2 == 0 else list(reversed(engines))
            for engine in order:
                for command in commands[engine]:
                    collected[engine] += run_lines(command)
            print(f"[{args.suite}] threads={threads} round {round_index + 1}/{args.rounds} done", file=sys.stderr)
        results = {"threads": threads, "peers": engines[1:],
                   "engines": {engine: pooled(cases) for engine, cases in collected.items()}}
        record["results"].append(results)
        sections.append(table(args.suite, results))

    header = (f"## `benchmarks/run {args.suite}` — {record['date']}, commit {record['commit']}\n\n"
              f"{record['machine']['cpu']}, {record['machine']['cores']} cores; OpenBLAS core in Kiln: "
              f"{record['kiln_info']['openblas']['core']}; OPENBLAS_CORETYPE={record['machine']['OPENBLAS_CORETYPE']}; "
              f"{args.rounds} interleaved rounds × {args.runs} runs. Ratios > 1: Kiln is faster.\n")
    report = header + "\n" + "\n\n".join(sections) + "\n"
    print(report)
    if not args.no_save:
        recording.save(f"{args.suite}-{record['date'][:10]}", report, record)


if __name__ == "__main__":
    main()
