"""Shared by the tabular peers: the benchmark table's columns, their command line, the timing and
the JSON line they print."""
import argparse
import json
import resource
import time

FLOATS = [f"f{i}" for i in range(1, 9)]
INTS = ["i1", "i2"]
CATEGORICALS = ["c1", "c2", "c3", "c4", "c5"]
TEXT = "text"
TOKEN_PATTERN = r"\b\w\w+\b"


def cpu_seconds():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def arguments(runs, cases=None):
    """The command line every tabular peer takes: the CSV path, --runs, --warmup, --threads, and
    --cases (default `cases`) for a peer with several."""
    parser = argparse.ArgumentParser()
    parser.add_argument("path")
    if cases is not None:
        parser.add_argument("--cases", default=cases)
    parser.add_argument("--runs", type=int, default=runs)
    parser.add_argument("--warmup", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1)
    return parser.parse_args()


def timed(body, runs, warmup):
    for _ in range(warmup):
        body()
    samples = []
    cpu_before = cpu_seconds()
    for _ in range(runs):
        start = time.perf_counter_ns()
        body()
        samples.append((time.perf_counter_ns() - start) / 1e6)
    return samples, (cpu_seconds() - cpu_before) / runs


def timed_rows(body, runs, warmup):
    """As `timed`, for a `body` that returns the rows it processed: (samples, cpu, rows)."""
    rows = [0]
    samples, cpu = timed(lambda: rows.__setitem__(0, body()), runs, warmup)
    return samples, cpu, rows[0]


def parent_only(kernel, threads):
    """Closes `kernel`'s parenthesis, noting that with several worker processes the CPU seconds
    and peak memory are the parent process's alone."""
    return kernel + ("; CPU s and peak of the parent process only)" if threads > 1 else ")")


def report(name, samples, unit, work, cpu, threads, kernel):
    best, median = min(samples), sorted(samples)[len(samples) // 2]
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({
        "suite": "tabular", "name": name, "best_ms": best, "median_ms": median, "runs": len(samples),
        unit: work / (best / 1000), "median_" + unit: work / (median / 1000), "threads": threads,
        "cpu_s": cpu, "peak_mb": peak, "kernel": kernel, "samples_ms": samples,
    }), flush=True)
