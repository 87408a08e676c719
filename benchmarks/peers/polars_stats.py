"""The polars peer of `kiln bench stats`: read the CSV, then describe + n_unique + value_counts
(what a profile of the table needs), as PERFORMANCE.md measured it."""
import os
import sys

for index, argument in enumerate(sys.argv):
    if argument == "--threads":
        os.environ["POLARS_MAX_THREADS"] = sys.argv[index + 1]
os.environ.setdefault("POLARS_MAX_THREADS", "1")

import polars as pl  # noqa: E402

from tabular_common import arguments, report, timed_rows  # noqa: E402


def profile(path):
    frame = pl.read_csv(path)
    frame.describe()
    frame.select(pl.all().n_unique())
    for name, dtype in frame.schema.items():
        if dtype == pl.String:
            frame.get_column(name).value_counts(sort=True).head(20)
    return frame.height


def main():
    args = arguments(runs=3)
    samples, cpu, rows = timed_rows(lambda: profile(args.path), args.runs, args.warmup)
    report("statistics", samples, "rows_per_s", rows, cpu, args.threads,
           f"polars {pl.__version__} describe + n_unique + value_counts ({os.environ['POLARS_MAX_THREADS']} threads)")


if __name__ == "__main__":
    main()
