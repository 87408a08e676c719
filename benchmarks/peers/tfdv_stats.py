"""The TFDV peer of `kiln bench stats`: tfdv.generate_statistics_from_csv on the same file
(Apache Beam's DirectRunner, as TFDV runs it by default)."""
import os
import tempfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import tensorflow_data_validation as tfdv  # noqa: E402

from tabular_common import arguments, report, timed_rows  # noqa: E402


def main():
    args = arguments(runs=1)
    with tempfile.TemporaryDirectory() as folder:
        def run():
            statistics = tfdv.generate_statistics_from_csv(args.path, output_path=os.path.join(folder, "stats.tfrecord"))
            return int(statistics.datasets[0].num_examples)
        samples, cpu, rows = timed_rows(run, args.runs, args.warmup)
    report("statistics", samples, "rows_per_s", rows, cpu, args.threads, f"tfdv {tfdv.__version__} (Beam DirectRunner)")


if __name__ == "__main__":
    main()
