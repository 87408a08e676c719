"""The pyarrow peer of `kiln bench transform --cases csv_read`: pyarrow.csv.read_csv of the same file."""
import os

import pyarrow as pa
import pyarrow.csv as csv

from tabular_common import arguments, report, timed


def main():
    args = arguments(runs=3)
    pa.set_cpu_count(args.threads)
    pa.set_io_thread_count(args.threads)
    options = csv.ReadOptions(use_threads=args.threads > 1)
    rows = []
    samples, cpu = timed(lambda: rows.append(csv.read_csv(args.path, read_options=options).num_rows), args.runs, args.warmup)
    report("csv_read", samples, "mb_per_s", os.path.getsize(args.path) / 1e6, cpu, args.threads, f"pyarrow {pa.__version__}")


if __name__ == "__main__":
    main()
