"""The scikit-learn peer of `kiln bench transform --cases analyze_transform`: pandas.read_csv and
a ColumnTransformer doing the same work (StandardScaler; median imputation + 10 quantile bins;
MinMaxScaler; OrdinalEncoder limited to 1000 categories + unknown; FeatureHasher(1000);
TfidfVectorizer(max_features=1000)), its transformers spread over `--threads` processes (n_jobs)."""
import os

for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(name, "1")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import sklearn  # noqa: E402
from sklearn.compose import ColumnTransformer  # noqa: E402
from sklearn.feature_extraction import FeatureHasher  # noqa: E402
from sklearn.feature_extraction.text import TfidfVectorizer  # noqa: E402
from sklearn.impute import SimpleImputer  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import FunctionTransformer, KBinsDiscretizer, MinMaxScaler, OrdinalEncoder, StandardScaler  # noqa: E402

from tabular_common import CATEGORICALS, FLOATS, INTS, TEXT, arguments, parent_only, report, timed_rows  # noqa: E402


def hasher(column):
    return make_pipeline(FunctionTransformer(lambda frame: frame[[column]].fillna("").astype(str).to_numpy().tolist()),
                         FeatureHasher(n_features=1000, input_type="string"))


def analyze_transform(path, threads):
    frame = pd.read_csv(path)
    transformer = ColumnTransformer([
        ("z", StandardScaler(), FLOATS),
        ("bins", make_pipeline(SimpleImputer(strategy="median"),
                               KBinsDiscretizer(n_bins=10, encode="ordinal", strategy="quantile",
                                                quantile_method="linear", subsample=None)), FLOATS),
        ("01", MinMaxScaler(), INTS),
        ("vocabulary", OrdinalEncoder(max_categories=1001, handle_unknown="use_encoded_value", unknown_value=-1,
                                      encoded_missing_value=-1), CATEGORICALS),
        *[(f"hash_{c}", hasher(c), [c]) for c in CATEGORICALS],
        ("tfidf", TfidfVectorizer(max_features=1000), TEXT),
    ], sparse_threshold=1.0, n_jobs=threads)
    result = transformer.fit_transform(frame.assign(text=frame[TEXT].fillna("")))
    return result.shape[0]


def main():
    args = arguments(runs=1)
    samples, cpu, rows = timed_rows(lambda: analyze_transform(args.path, args.threads), args.runs, args.warmup)
    kernel = parent_only(f"scikit-learn {sklearn.__version__} (n_jobs={args.threads}", args.threads)
    report("analyze_transform", samples, "rows_per_s", rows, cpu, args.threads, kernel)


if __name__ == "__main__":
    main()
