"""The numpy peer of `kiln bench gemm`: the same shapes, data distribution and JSON lines.

Threads follow the --threads option through threadpoolctl (numpy's bundled OpenBLAS).
"""
import argparse
import json
import time

import numpy as np
from threadpoolctl import threadpool_info, threadpool_limits

DEFAULT_SHAPES = "512x512x512,64x3136x576,256x196x2304,64x3136x256"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--shapes", default=DEFAULT_SHAPES)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    blas = next((pool for pool in threadpool_info() if pool["user_api"] == "blas"), {})
    kernel = f"numpy-{blas.get('internal_api', '?')}-{blas.get('version', '?')}-{blas.get('architecture', '?')}"
    rng = np.random.default_rng(1)
    with threadpool_limits(limits=args.threads, user_api="blas"):
        for text in args.shapes.split(","):
            m, n, k = (int(part) for part in text.split("x"))
            a = rng.random((m, k), dtype=np.float32) - 0.5
            b = rng.random((k, n), dtype=np.float32) - 0.5
            c = np.empty((m, n), dtype=np.float32)
            for _ in range(args.warmup):
                np.matmul(a, b, out=c)
            samples = []
            for _ in range(args.runs):
                start = time.perf_counter_ns()
                np.matmul(a, b, out=c)
                samples.append((time.perf_counter_ns() - start) / 1e6)
            best, median = min(samples), float(np.median(samples))
            flops = 2.0 * m * n * k
            print(json.dumps({
                "suite": "gemm", "name": f"sgemm {text}", "best_ms": best, "median_ms": median,
                "runs": len(samples), "gflops": flops / best / 1e6, "median_gflops": flops / median / 1e6,
                "threads": args.threads, "kernel": kernel, "samples_ms": samples,
            }))


if __name__ == "__main__":
    main()
