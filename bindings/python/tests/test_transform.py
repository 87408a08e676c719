"""kiln.transform against scikit-learn (the oracle) on the real datasets in examples/data."""
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xxhash
from sklearn.decomposition import PCA
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.impute import SimpleImputer
from sklearn.preprocessing import KBinsDiscretizer, MinMaxScaler, OneHotEncoder, StandardScaler

import kiln

DATA = Path(__file__).resolve().parents[3] / "examples" / "data"
NUMERIC = [("penguins.csv", "bill_length_mm"), ("penguins.csv", "body_mass_g"), ("wage_islr.csv", "wage"),
           ("wage_islr.csv", "age"), ("slid_wages.csv", "wages"), ("pbc_patients.csv", "chol"),
           ("cps1985_wages.csv", "experience")]


def frame(name):
    return pd.read_csv(DATA / name, keep_default_na=False, na_values=["", "NA"])


def one(name, column, op, **parameters):
    return {"features": [{"output": "out", "op": op, "input": column, **parameters}]}


@pytest.mark.parametrize("name,column", NUMERIC)
def test_scalers_match_scikit_learn(name, column):
    x = frame(name)[[column]].to_numpy(dtype=np.float64)
    present = ~np.isnan(x[:, 0])
    for op, scaler in [("scale_to_z_score", StandardScaler()), ("scale_to_0_1", MinMaxScaler())]:
        graph = kiln.transform.analyze(one(name, column, op), DATA / name)
        ours = graph.apply({column: x[:, 0]})["out"]
        theirs = scaler.fit_transform(x)[:, 0]
        np.testing.assert_allclose(ours[present], theirs[present], rtol=1e-12, atol=1e-12)
        assert np.isnan(ours[~present]).all()


@pytest.mark.parametrize("name,column", NUMERIC)
@pytest.mark.parametrize("buckets", [4, 10])
def test_bucketize_matches_kbins_quantile(name, column, buckets):
    x = frame(name)[[column]].to_numpy(dtype=np.float64)
    present = ~np.isnan(x[:, 0])
    graph = kiln.transform.analyze(one(name, column, "bucketize", num_buckets=buckets), DATA / name)
    ours = graph.apply({column: x[:, 0]})["out"]
    binner = KBinsDiscretizer(n_bins=buckets, encode="ordinal", strategy="quantile", quantile_method="linear")
    with _quiet():
        theirs = binner.fit_transform(x[present])[:, 0]
    np.testing.assert_array_equal(np.ma.getdata(ours)[present], theirs.astype(np.int64))
    if (~present).any():
        assert np.ma.getmaskarray(ours)[~present].all()


class _quiet:
    def __enter__(self):
        import warnings
        self._context = warnings.catch_warnings()
        self._context.__enter__()
        warnings.simplefilter("ignore")

    def __exit__(self, *exc):
        self._context.__exit__(*exc)


@pytest.mark.parametrize("name,column", [("wage_islr.csv", "education"), ("penguins.csv", "species"),
                                         ("cps1985_wages.csv", "occupation"), ("titanic.csv", "class")])
def test_vocabulary_and_one_hot_match_value_counts_and_encoders(name, column):
    data = frame(name)
    values = data[column]
    counts = values.dropna().value_counts()
    expected = sorted(counts.index, key=lambda v: (-counts[v], v.encode()))
    spec = {"features": [
        {"output": "id", "op": "compute_and_apply_vocabulary", "input": column, "top_k": 3, "num_oov_buckets": 1},
        {"output": "hot", "op": "one_hot", "input": column, "top_k": 3}]}
    graph = kiln.transform.analyze(spec, DATA / name)
    document = json.loads(graph.to_json())
    assert document["features"][0]["vocabulary"] == expected[:3]
    column_values = np.array([None if pd.isna(v) else v for v in values], dtype=object)
    out = graph.apply({column: column_values})
    index = {word: i for i, word in enumerate(expected[:3])}
    assert [index.get(v, 3) for v in column_values] == list(out["id"])
    encoder = OneHotEncoder(categories=[expected[:3]], handle_unknown="ignore", sparse_output=False)
    theirs = encoder.fit_transform(np.array([["" if v is None else v] for v in column_values], dtype=object))
    np.testing.assert_array_equal(out["hot"], theirs)


def test_tfidf_matches_tfidf_vectorizer_on_titanic_names():
    names = frame("titanic.csv")["name"].tolist()
    graph = kiln.transform.analyze(one("titanic.csv", "name", "tfidf"), DATA / "titanic.csv")
    vocabulary = json.loads(graph.to_json())["features"][0]["vocabulary"]
    ours = graph.apply({"name": np.array(names, dtype=object)})["out"]
    vectorizer = TfidfVectorizer()
    theirs = vectorizer.fit_transform(names).toarray()
    assert sorted(vocabulary) == sorted(vectorizer.vocabulary_)
    order = [vectorizer.vocabulary_[term] for term in vocabulary]
    np.testing.assert_allclose(ours, theirs[:, order], rtol=1e-12, atol=1e-14)


def test_tfidf_with_vocab_size_keeps_the_most_frequent_terms():
    names = frame("titanic.csv")["name"].tolist()
    graph = kiln.transform.analyze(one("titanic.csv", "name", "tfidf", vocab_size=20), DATA / "titanic.csv")
    vocabulary = json.loads(graph.to_json())["features"][0]["vocabulary"]
    totals = TfidfVectorizer(use_idf=False, norm=None).fit(names)
    counts = np.asarray(totals.transform(names).sum(axis=0))[0]
    ranked = sorted(totals.vocabulary_, key=lambda t: (-counts[totals.vocabulary_[t]], t))
    assert vocabulary == ranked[:20]


def test_pca_matches_scikit_learn_up_to_sign():
    columns = ["bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g"]
    data = frame("penguins.csv")[columns].dropna()
    spec = {"features": [{"output": "pc", "op": "pca", "inputs": columns, "n_components": 2}]}
    graph = kiln.transform.analyze(spec, {c: data[c].to_numpy() for c in columns})
    ours = graph.apply({c: data[c].to_numpy() for c in columns})["pc"]
    pca = PCA(n_components=2).fit(data.to_numpy())
    theirs = pca.transform(data.to_numpy())
    for k in range(2):
        sign = np.sign(ours[0, k] * theirs[0, k])
        np.testing.assert_allclose(ours[:, k], sign * theirs[:, k], rtol=1e-7, atol=1e-6)
    document = json.loads(graph.to_json())["features"][0]
    np.testing.assert_allclose(document["explained_variance"], pca.explained_variance_, rtol=1e-9)


@pytest.mark.parametrize("strategy", ["mean", "median", "most_frequent"])
def test_impute_matches_simple_imputer(strategy):
    x = frame("pbc_patients.csv")[["chol"]].to_numpy(dtype=np.float64)
    graph = kiln.transform.analyze(one("pbc_patients.csv", "chol", "impute", strategy=strategy), DATA / "pbc_patients.csv")
    ours = graph.apply({"chol": x[:, 0]})["out"]
    theirs = SimpleImputer(strategy=strategy).fit_transform(x)[:, 0]
    np.testing.assert_allclose(ours, theirs, rtol=1e-12)


def test_string_imputation_and_hashing():
    sex = frame("penguins.csv")["sex"]
    values = np.array([None if pd.isna(v) else v for v in sex], dtype=object)
    spec = {"features": [{"output": "filled", "op": "impute", "input": "sex", "strategy": "most_frequent"},
                         {"output": "bucket", "op": "hash_strings", "input": "sex", "hash_buckets": 7}]}
    graph = kiln.transform.analyze(spec, {"sex": values})
    out = graph.apply({"sex": values})
    most = sex.value_counts().idxmax()
    assert list(out["filled"]) == [most if v is None else v for v in values]
    assert list(out["bucket"]) == [xxhash.xxh64_intdigest((v or "").encode()) % 7 for v in values]


def test_one_instance_equals_its_row_in_the_batch():
    spec = {"features": [
        {"output": "age_z", "op": "scale_to_z_score", "input": "age"},
        {"output": "edu", "op": "compute_and_apply_vocabulary", "input": "education", "num_oov_buckets": 2},
        {"output": "bucket", "op": "bucketize", "input": "wage", "num_buckets": 5}]}
    graph = kiln.transform.analyze(spec, DATA / "wage_islr.csv")
    data = kiln.read_csv(DATA / "wage_islr.csv")
    batch = graph.apply({"age": data["age"], "education": data["education"], "wage": data["wage"]})
    for row in [0, 17, 2999]:
        single = graph.apply_instance({"age": int(data["age"][row]), "education": data["education"][row],
                                       "wage": float(data["wage"][row])})
        assert single == {name: values[row] for name, values in batch.items()}


def test_graph_round_trips_and_bad_input_raises(tmp_path):
    graph = kiln.transform.analyze(one("penguins.csv", "body_mass_g", "scale_to_z_score"), DATA / "penguins.csv")
    graph.save(tmp_path / "g.json")
    again = kiln.transform.TransformGraph.load(tmp_path / "g.json")
    assert again.to_json() == graph.to_json()
    assert again.output_schema == [{"name": "out", "type": "float", "width": 1}]
    with pytest.raises(kiln.KilnError, match=r"features\[0\]\.num_buckets"):
        kiln.transform.analyze(one("penguins.csv", "body_mass_g", "bucketize"), DATA / "penguins.csv")
    with pytest.raises(kiln.KilnError, match="'species' \\(string\\)") as error:
        kiln.transform.analyze(one("penguins.csv", "mass", "scale_to_z_score"), DATA / "penguins.csv")
    assert error.value.code == 8
    with pytest.raises(kiln.KilnError, match="needs a numeric"):
        kiln.transform.analyze(one("penguins.csv", "species", "scale_to_z_score"), DATA / "penguins.csv")
    with pytest.raises(kiln.KilnError, match="no values to analyze"):
        kiln.transform.analyze(one("x", "x", "scale_to_z_score"), {"x": np.ma.masked_all(3, dtype=np.float64)})
    newer = json.loads(graph.to_json())
    newer["format"] = "kiln.transform_graph/2"
    with pytest.raises(kiln.KilnError, match="newer") as error:
        kiln.transform.TransformGraph.from_json(json.dumps(newer))
    assert error.value.code == 6
    with pytest.raises(kiln.KilnError, match="needs column 'body_mass_g'"):
        graph.apply({"other": np.zeros(3)})


def test_nan_and_infinity_are_skipped_by_analyzers_and_propagate():
    x = np.array([1.0, 2.0, np.nan, np.inf, 3.0])
    graph = kiln.transform.analyze(one("x", "x", "scale_to_z_score"), {"x": x})
    out = graph.apply({"x": x})["out"]
    theirs = StandardScaler().fit(np.array([[1.0], [2.0], [3.0]]))
    np.testing.assert_allclose(out[[0, 1, 4]], theirs.transform(np.array([[1.0], [2.0], [3.0]]))[:, 0])
    assert np.isnan(out[2]) and out[3] == np.inf


def test_partial_analyses_of_shards_merge_into_the_whole(tmp_path):
    spec = {"features": [{"output": "age_z", "op": "scale_to_z_score", "input": "age"},
                         {"output": "edu", "op": "compute_and_apply_vocabulary", "input": "education"},
                         {"output": "bucket", "op": "bucketize", "input": "wage", "num_buckets": 5}]}
    data = kiln.read_csv(DATA / "wage_islr.csv")
    shards = [{k: v[start:start + 1000] for k, v in data.items()} for start in (0, 1000, 2000)]
    partials = [kiln.transform.analyze_partial(spec, shard) for shard in shards]
    assert all(isinstance(p, bytes) and b"kiln.transform_partial" in p[:40] for p in partials)
    merged = json.loads(kiln.transform.merge(partials).to_json())
    whole = json.loads(kiln.transform.analyze(spec, DATA / "wage_islr.csv").to_json())
    assert merged["rows_analyzed"] == whole["rows_analyzed"] == 3000
    for mine, theirs in zip(merged["features"], whole["features"]):
        for key in ("vocabulary", "counts", "boundaries", "min", "max"):
            assert mine.get(key) == theirs.get(key), key
        if "mean" in theirs:
            assert mine["mean"] == pytest.approx(theirs["mean"], rel=1e-12)
            assert mine["std"] == pytest.approx(theirs["std"], rel=1e-12)
    from_file = kiln.transform.analyze_partial(spec, DATA / "wage_islr.csv")
    assert json.loads(kiln.transform.merge([from_file]).to_json())["features"][1]["vocabulary"] == whole["features"][1]["vocabulary"]
    with pytest.raises(kiln.KilnError) as error:
        kiln.transform.merge([b"not a partial"])
    assert error.value.code == 5
    other = kiln.transform.analyze_partial({"features": [{"output": "x", "op": "log1p", "input": "age"}]}, shards[0])
    with pytest.raises(kiln.KilnError, match="different specs"):
        kiln.transform.merge([partials[0], other])
    with pytest.raises(kiln.KilnError):
        kiln.transform.merge([])
