"""Shared by the tabular peers: the benchmark table's columns and the JSON line they print."""
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


def report(name, samples, unit, work, cpu, threads, kernel):
    best, median = min(samples), sorted(samples)[len(samples) // 2]
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({
        "suite": "tabular", "name": name, "best_ms": best, "median_ms": median, "runs": len(samples),
        unit: work / (best / 1000), "median_" + unit: work / (median / 1000), "threads": threads,
        "cpu_s": cpu, "peak_mb": peak, "kernel": kernel, "samples_ms": samples,
    }), flush=True)
