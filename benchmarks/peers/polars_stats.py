"""The polars peer of `kiln bench stats`: read the CSV, then describe + n_unique + value_counts
(what a profile of the table needs), as PERFORMANCE.md measured it."""
import argparse
import os
import sys

for index, argument in enumerate(sys.argv):
    if argument == "--threads":
        os.environ["POLARS_MAX_THREADS"] = sys.argv[index + 1]
os.environ.setdefault("POLARS_MAX_THREADS", "1")

import polars as pl  # noqa: E402

from tabular_common import report, timed  # noqa: E402


def profile(path):
    frame = pl.read_csv(path)
    frame.describe()
    frame.select(pl.all().n_unique())
    for name, dtype in frame.schema.items():
        if dtype == pl.String:
            frame.get_column(name).value_counts(sort=True).head(20)
    return frame.height


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("path")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    rows = [0]
    samples, cpu = timed(lambda: rows.__setitem__(0, profile(args.path)), args.runs, args.warmup)
    report("statistics", samples, "rows_per_s", rows[0], cpu, args.threads,
           f"polars {pl.__version__} describe + n_unique + value_counts ({os.environ['POLARS_MAX_THREADS']} threads)")


if __name__ == "__main__":
    main()
