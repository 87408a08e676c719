"""The onnxruntime peer of `kiln bench nn`: the same model, batch, input distribution and JSON."""
import argparse
import json
import os
import time

import numpy as np
import onnxruntime


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("model")
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = args.threads
    options.inter_op_num_threads = 1
    session = onnxruntime.InferenceSession(args.model, options, providers=["CPUExecutionProvider"])
    rng = np.random.default_rng(7)
    feeds = {}
    for info in session.get_inputs():
        shape = [args.batch if (axis == 0 and not isinstance(d, int)) else (d if isinstance(d, int) else 1)
                 for axis, d in enumerate(info.shape)]
        feeds[info.name] = rng.standard_normal(shape).astype(np.float32)
    for _ in range(args.warmup):
        session.run(None, feeds)
    samples = []
    for _ in range(args.runs):
        start = time.perf_counter_ns()
        session.run(None, feeds)
        samples.append((time.perf_counter_ns() - start) / 1e6)
    best, median = min(samples), float(np.median(samples))
    print(json.dumps({
        "suite": "nn", "name": f"{os.path.basename(args.model)} batch {args.batch}", "best_ms": best, "median_ms": median,
        "runs": len(samples), "images_per_s": args.batch / best * 1000, "median_images_per_s": args.batch / median * 1000,
        "batch": args.batch, "threads": args.threads, "kernel": f"onnxruntime-{onnxruntime.__version__}-cpu",
        "samples_ms": samples,
    }))


if __name__ == "__main__":
    main()
