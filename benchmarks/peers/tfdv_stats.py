"""The TFDV peer of `kiln bench stats`: tfdv.generate_statistics_from_csv on the same file
(Apache Beam's DirectRunner, as TFDV runs it by default)."""
import argparse
import os
import tempfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import tensorflow_data_validation as tfdv  # noqa: E402

from tabular_common import report, timed  # noqa: E402


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("path")
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--warmup", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    rows = [0]
    with tempfile.TemporaryDirectory() as folder:
        def run():
            statistics = tfdv.generate_statistics_from_csv(args.path, output_path=os.path.join(folder, "stats.tfrecord"))
            rows[0] = int(statistics.datasets[0].num_examples)
        samples, cpu = timed(run, args.runs, args.warmup)
    report("statistics", samples, "rows_per_s", rows[0], cpu, args.threads, f"tfdv {tfdv.__version__} (Beam DirectRunner)")


if __name__ == "__main__":
    main()
