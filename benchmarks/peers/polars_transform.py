"""The polars peer of `kiln bench transform`: read_csv, and the same analyze + transform work
(z-score and 10 quantile buckets of the floats, 0-1 of the ints, vocabulary top-1000 + OOV and a
1000-bucket hash of the categoricals, tf-idf of the text with a 1000-term vocabulary)."""
import os

os.environ.setdefault("POLARS_MAX_THREADS", "1")
import sys

for index, argument in enumerate(sys.argv):
    if argument == "--threads":
        os.environ["POLARS_MAX_THREADS"] = sys.argv[index + 1]

import polars as pl  # noqa: E402

from tabular_common import CATEGORICALS, FLOATS, INTS, TEXT, TOKEN_PATTERN, arguments, report, timed, timed_rows  # noqa: E402


def analyze_transform(path):
    frame = pl.read_csv(path)
    # Analyze: one pass of aggregations, then vocabularies.
    stats = frame.select(
        [pl.col(c).mean().alias(f"{c}_mean") for c in FLOATS]
        + [pl.col(c).std(ddof=0).alias(f"{c}_std") for c in FLOATS]
        + [pl.col(c).quantile(q / 10, "linear").alias(f"{c}_q{q}") for c in FLOATS for q in range(1, 10)]
        + [pl.col(c).min().alias(f"{c}_min") for c in INTS] + [pl.col(c).max().alias(f"{c}_max") for c in INTS]
    ).row(0, named=True)
    vocabularies = {}
    for c in CATEGORICALS:
        counts = frame.get_column(c).drop_nulls().value_counts().sort(["count", c], descending=[True, False]).head(1000)
        vocabularies[c] = pl.DataFrame({c: counts.get_column(c), f"{c}_id": pl.int_range(counts.height, eager=True)})
    tokens = (frame.select(pl.int_range(pl.len()).alias("row"), pl.col(TEXT).str.to_lowercase()
                           .str.extract_all(TOKEN_PATTERN).alias("term")).explode("term").drop_nulls("term"))
    documents = frame.height
    term_stats = tokens.group_by("term").agg(pl.len().alias("count"), pl.col("row").n_unique().alias("df"))
    vocabulary = term_stats.sort(["count", "term"], descending=[True, False]).head(1000).with_columns(
        pl.int_range(pl.len()).alias("term_id"),
        (((1 + documents) / (1 + pl.col("df"))).log() + 1).alias("idf"))
    # Transform.
    columns = []
    for c in FLOATS:
        columns.append(((pl.col(c) - stats[f"{c}_mean"]) / stats[f"{c}_std"]).alias(f"{c}_z"))
        boundaries = sorted({stats[f"{c}_q{q}"] for q in range(1, 10)})
        columns.append(pl.sum_horizontal([(pl.col(c) >= b).cast(pl.Int64) for b in boundaries]).alias(f"{c}_bucket"))
    for c in INTS:
        columns.append(((pl.col(c) - stats[f"{c}_min"]) / (stats[f"{c}_max"] - stats[f"{c}_min"])).alias(f"{c}_01"))
    for c in CATEGORICALS:
        columns.append((pl.col(c).hash() % 1000).alias(f"{c}_hash"))
    out = frame.with_columns(columns)
    for c in CATEGORICALS:
        out = out.join(vocabularies[c], on=c, how="left").with_columns(pl.col(f"{c}_id").fill_null(1000))
    weights = (tokens.join(vocabulary.select("term", "term_id", "idf"), on="term", how="inner")
               .group_by("row", "term_id").agg(pl.len().alias("tf"), pl.col("idf").first())
               .with_columns((pl.col("tf") * pl.col("idf")).alias("w")))
    weights = weights.with_columns((pl.col("w") / (pl.col("w") ** 2).sum().over("row").sqrt()).alias("tfidf"))
    return out.height, weights.height


def read(path):
    return pl.read_csv(path).height


def main():
    args = arguments(runs=3, cases="csv_read,analyze_transform")
    kernel = f"polars {pl.__version__} ({os.environ['POLARS_MAX_THREADS']} threads)"
    for case in args.cases.split(","):
        if case == "csv_read":
            samples, cpu = timed(lambda: read(args.path), args.runs, args.warmup)
            report("csv_read", samples, "mb_per_s", os.path.getsize(args.path) / 1e6, cpu, args.threads, kernel)
        elif case == "analyze_transform":
            samples, cpu, rows = timed_rows(lambda: analyze_transform(args.path)[0], args.runs, args.warmup)
            report("analyze_transform", samples, "rows_per_s", rows, cpu, args.threads, kernel)


if __name__ == "__main__":
    main()
