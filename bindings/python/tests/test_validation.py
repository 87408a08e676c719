"""kiln.validation statistics against pandas and numpy on the real datasets in examples/data."""
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import kiln

DATA = Path(__file__).resolve().parents[3] / "examples" / "data"
DATASETS = ["penguins.csv", "titanic.csv", "wage_islr.csv", "cps1985_wages.csv", "slid_wages.csv", "pbc_patients.csv"]


@pytest.mark.parametrize("name", DATASETS)
def test_statistics_match_pandas(name):
    stats = kiln.validation.generate_statistics(DATA / name)
    frame = pd.read_csv(DATA / name, keep_default_na=False, na_values=["", "NA", "N/A", "null", "NULL"])
    assert stats["format"] == "kiln.statistics/1"
    assert stats["num_rows"] == len(frame) and stats["num_invalid_rows"] == 0
    assert [f["name"] for f in stats["features"]] == list(frame.columns)
    for feature in stats["features"]:
        column = frame[feature["name"]]
        assert feature["num_missing"] == column.isna().sum()
        assert feature["num_present"] == column.notna().sum()
        if feature["type"] == "string":
            assert feature["unique"] == column.nunique()
            counts = column.value_counts()
            expected = sorted(counts.index, key=lambda v: (-counts[v], v.encode()))[:20]
            assert [t["value"] for t in feature["top_values"]] == expected
            assert [t["count"] for t in feature["top_values"]] == [counts[v] for v in expected]
            assert feature["avg_length"] == pytest.approx(column.dropna().str.encode("utf-8").str.len().mean(), rel=1e-12)
            continue
        values = column.dropna().to_numpy(dtype=np.float64)
        for key, expected in [("mean", column.mean()), ("std_dev", column.std()), ("min", column.min()),
                              ("max", column.max()), ("median", column.median())]:
            assert feature[key] == pytest.approx(float(expected), rel=1e-12, abs=1e-12), (feature["name"], key)
        assert feature["num_zeros"] == int((values == 0).sum())
        np.testing.assert_allclose(feature["quantiles"], np.percentile(values, np.arange(0, 101, 10)), rtol=1e-12)
        counts, edges = np.histogram(values, bins=10, range=(values.min(), values.max()))
        if values.max() > values.min():
            np.testing.assert_allclose([b["low"] for b in feature["histogram"]], edges[:-1], rtol=1e-12)
            assert [b["count"] for b in feature["histogram"]] == counts.tolist(), feature["name"]


def test_malformed_rows_are_counted_not_dropped(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("a,b\n1,x\n2\n3,y\n4,z,9\n\"5,w\n")
    stats = kiln.validation.generate_statistics(path)
    assert stats["num_rows"] == 5 and stats["num_valid_rows"] == 2 and stats["num_invalid_rows"] == 3
    assert stats["invalid_rows_by_reason"] == {"unterminated quoted field": 1, "wrong field count": 2}


def test_slices_and_arrays_and_cli(tmp_path):
    stats = kiln.validation.generate_statistics(DATA / "penguins.csv", slice="species")
    slices = {s["slice"]: s for s in stats["slices"]}
    assert {k: v["num_rows"] for k, v in slices.items()} == {"Adelie": 152, "Chinstrap": 68, "Gentoo": 124}
    frame = pd.read_csv(DATA / "penguins.csv")
    mass = {f["name"]: f for f in slices["Gentoo"]["features"]}["body_mass_g"]
    assert mass["mean"] == pytest.approx(frame[frame.species == "Gentoo"].body_mass_g.mean(), rel=1e-12)
    from_arrays = kiln.validation.generate_statistics({"x": np.array([1.0, np.nan, 3.0]), "s": np.array(["a", None, "a"], dtype=object)})
    x, s = from_arrays["features"]
    assert x["num_nan"] == 1 and x["mean"] == 2.0 and s["num_missing"] == 1 and s["unique"] == 1
    with pytest.raises(kiln.KilnError, match="no slice column 'nope'"):
        kiln.validation.generate_statistics(DATA / "penguins.csv", slice="nope")
    import subprocess, os
    cli = os.environ.get("KILN_CLI", str(Path(__file__).resolve().parents[3] / ".build" / "debug" / "kiln-cli"))
    result = subprocess.run([cli, "stats", DATA / "penguins.csv", "-o", tmp_path / "s.json"], capture_output=True, text=True)
    assert result.returncode == 0 and "bill_length_mm" in result.stdout
    assert json.loads((tmp_path / "s.json").read_text())["features"][2]["num_missing"] == 2
    result = subprocess.run([cli, "stats", tmp_path / "missing.csv", "-o", tmp_path / "s.json"], capture_output=True, text=True)
    assert result.returncode != 0 and "cannot open" in result.stderr


def cdf(percentiles, x):
    """The documented piecewise-linear CDF through 101 percentiles, in numpy."""
    p = np.asarray(percentiles)
    k = np.searchsorted(p, x, side="right")
    if k == 0:
        return 0.0
    if k == len(p):
        return 1.0
    return ((k - 1) + (x - p[k - 1]) / (p[k] - p[k - 1])) / 100


def numpy_measures(current, baseline):
    edges = []
    for decile in range(10, 100, 10):
        if not edges or baseline[decile] > edges[-1]:
            edges.append(baseline[decile])
    def buckets(percentiles):
        cumulative = [0.0] + [cdf(percentiles, e) for e in edges] + [1.0]
        return np.maximum(np.diff(cumulative), 0)
    p, q = buckets(baseline), buckets(current)
    m = (p + q) / 2
    js = sum(0.5 * a * np.log2(a / c) for a, c in zip(p, m) if a > 0) + sum(0.5 * b * np.log2(b / c) for b, c in zip(q, m) if b > 0)
    pf, qf = np.maximum(p, 1e-4), np.maximum(q, 1e-4)
    psi = float(np.sum((qf - pf) * np.log(qf / pf)))
    points = list(baseline) + list(current)
    ks = max(abs(cdf(baseline, x) - cdf(current, x)) for x in points)
    a, b = np.asarray(baseline), np.asarray(current)
    wasserstein = float(np.sum((np.abs(a[:-1] - b[:-1]) + np.abs(a[1:] - b[1:])) / 200))
    return {"jensen_shannon": js, "psi": psi, "ks": ks, "wasserstein": wasserstein}


@pytest.fixture(scope="module")
def drifted(tmp_path_factory):
    """The patient data, and a copy with a shifted cholesterol mean and a new sex category."""
    folder = tmp_path_factory.mktemp("drift")
    frame = pd.read_csv(DATA / "pbc_patients.csv")
    frame["chol"] = frame["chol"] * 1.4
    frame.loc[frame.index[:60], "sex"] = "x"
    frame.to_csv(folder / "drifted.csv", index=False)
    return folder / "drifted.csv"


def test_schema_inference_validation_and_drift(drifted):
    baseline = kiln.validation.generate_statistics(DATA / "pbc_patients.csv")
    schema = kiln.validation.infer_schema(baseline, not_in_serving=["status"])
    features = {f["name"]: f for f in schema["features"]}
    assert schema["format"] == "kiln.schema/1" and schema["default_environments"] == ["TRAINING", "SERVING"]
    assert features["sex"]["domain"] == ["f", "m"] and features["sex"]["drift_comparator"] == {"type": "l_infinity", "threshold": 0.1}
    assert features["chol"]["drift_comparator"]["type"] == "jensen_shannon"
    assert features["chol"]["presence"]["min_fraction"] == 0.0 and features["age"]["presence"]["min_fraction"] == 1.0
    assert features["status"]["not_in_environment"] == ["SERVING"]

    clean = kiln.validation.validate(baseline, schema, baseline=baseline)
    assert clean["anomalies"] == [] and all(d["value"] == 0 for d in clean["drift"])

    current = kiln.validation.generate_statistics(drifted)
    report = kiln.validation.validate(current, schema, baseline=baseline)
    flagged = {(a["feature"], a["type"]) for a in report["anomalies"]}
    assert flagged == {("sex", "ENUM_TYPE_UNEXPECTED_STRING_VALUES"), ("sex", "COMPARATOR_L_INFTY_HIGH"),
                       ("chol", "COMPARATOR_JENSEN_SHANNON_DIVERGENCE_HIGH")}
    drift = {d["feature"]: d for d in report["drift"]}
    assert len(drift) == len(schema["features"])
    assert drift["sex"]["value"] == pytest.approx(60 / 418, rel=1e-12)
    by_name = lambda stats: {f["name"]: f for f in stats["features"]}
    expected = numpy_measures(by_name(current)["chol"]["percentiles"], by_name(baseline)["chol"]["percentiles"])
    for key, value in expected.items():
        assert drift["chol"]["measures"][key] == pytest.approx(value, rel=1e-9, abs=1e-12), key
    assert drift["chol"]["value"] == drift["chol"]["measures"]["jensen_shannon"]
    assert not drift["age"]["anomalous"]
    compared = kiln.validation.compare(current, baseline)
    assert compared["chol"]["anomalous"] and not compared["bili"]["anomalous"]


def test_environments_skew_and_errors(tmp_path):
    stats = kiln.validation.generate_statistics(DATA / "penguins.csv")
    schema = kiln.validation.infer_schema(stats, not_in_serving=["species"])
    pd.read_csv(DATA / "penguins.csv").drop(columns="species").to_csv(tmp_path / "serving.csv", index=False)
    serving = kiln.validation.generate_statistics(tmp_path / "serving.csv")
    report = kiln.validation.validate(serving, schema, environment="SERVING")
    assert report["anomalies"] == []
    report = kiln.validation.validate(serving, schema)
    assert [(a["feature"], a["type"]) for a in report["anomalies"]] == [("species", "SCHEMA_MISSING_COLUMN")]
    skew = kiln.validation.validate(stats, schema, serving=stats)["skew"]
    assert skew and all(s["value"] == 0 for s in skew)
    with pytest.raises(kiln.KilnError, match="different columns"):
        kiln.validation.validate(stats, schema, baseline=serving)
    with pytest.raises(kiln.KilnError) as error:
        kiln.validation.validate({"format": "kiln.statistics/2", "num_rows": 1, "features": []}, schema)
    assert error.value.code == 6
    with pytest.raises(kiln.KilnError, match="unknown field 'domian'"):
        broken = json.loads(json.dumps(schema))
        broken["features"][0]["domian"] = ["x"]
        kiln.validation.validate(stats, broken)


def test_cli_exit_codes_and_pbtxt_round_trip(tmp_path, drifted):
    import os
    import subprocess
    cli = os.environ.get("KILN_CLI", str(Path(__file__).resolve().parents[3] / ".build" / "debug" / "kiln-cli"))
    run = lambda *args: subprocess.run([cli, *map(str, args)], capture_output=True, text=True)
    assert run("stats", DATA / "pbc_patients.csv", "-o", tmp_path / "old.json").returncode == 0
    assert run("stats", drifted, "-o", tmp_path / "new.json").returncode == 0
    assert run("schema", "infer", tmp_path / "old.json", "-o", tmp_path / "schema.json", "--infer-ranges").returncode == 0
    clean = run("validate", "--schema", tmp_path / "schema.json", "--stats", tmp_path / "old.json", "--baseline", tmp_path / "old.json",
                "-o", tmp_path / "clean.json")
    assert clean.returncode == 0, clean.stdout + clean.stderr
    found = run("validate", "--schema", tmp_path / "schema.json", "--stats", tmp_path / "new.json", "--baseline", tmp_path / "old.json",
                "-o", tmp_path / "anomalies.json")
    assert found.returncode == 1 and "ENUM_TYPE_UNEXPECTED_STRING_VALUES" in found.stdout
    anomalies = json.loads((tmp_path / "anomalies.json").read_text())
    assert anomalies["format"] == "kiln.anomalies/1" and {a["feature"] for a in anomalies["anomalies"]} == {"sex", "chol"}
    assert run("validate", "--schema", tmp_path / "missing.json", "--stats", tmp_path / "new.json").returncode == 2
    assert run("validate", "--stats", tmp_path / "new.json").returncode == 2
    (tmp_path / "bad.json").write_text("{not json")
    assert run("validate", "--schema", tmp_path / "bad.json", "--stats", tmp_path / "new.json").returncode == 2
    exported = run("schema", "export", tmp_path / "schema.json", "--format", "pbtxt", "-o", tmp_path / "schema.pbtxt")
    assert exported.returncode == 0
    text = (tmp_path / "schema.pbtxt").read_text()
    assert 'name: "sex"' in text and "type: BYTES" in text and "infinity_norm" in text and "float_domain" in text
    assert run("schema", "import", tmp_path / "schema.pbtxt", "-o", tmp_path / "again.json").returncode == 0
    original = json.loads((tmp_path / "schema.json").read_text())
    again = json.loads((tmp_path / "again.json").read_text())
    for mine, theirs in zip(original["features"], again["features"]):
        for key in ("name", "type", "presence", "domain", "range", "drift_comparator", "skew_comparator"):
            assert mine.get(key) == theirs.get(key), (mine["name"], key)


def test_imports_a_tfdv_schema(tmp_path):
    import os
    import subprocess
    (tmp_path / "schema.pbtxt").write_text('''
# written by TFDV
feature {
  name: "species"
  value_count { min: 1 max: 1 }
  type: BYTES
  domain: "species"
  presence { min_fraction: 1.0 min_count: 1 }
  drift_comparator { infinity_norm { threshold: 0.05 } }
}
feature {
  name: "body_mass_g"
  type: FLOAT
  presence { min_count: 1 }
}
string_domain { name: "species" value: "Adelie" value: "Gentoo" }
default_environment: "TRAINING"
''')
    cli = os.environ.get("KILN_CLI", str(Path(__file__).resolve().parents[3] / ".build" / "debug" / "kiln-cli"))
    result = subprocess.run([cli, "schema", "import", tmp_path / "schema.pbtxt", "-o", tmp_path / "s.json"], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    schema = json.loads((tmp_path / "s.json").read_text())
    species = schema["features"][0]
    assert species["domain"] == ["Adelie", "Gentoo"] and species["drift_comparator"] == {"type": "l_infinity", "threshold": 0.05}
    stats = kiln.validation.generate_statistics(DATA / "penguins.csv")
    report = kiln.validation.validate(stats, schema)
    assert ("species", "ENUM_TYPE_UNEXPECTED_STRING_VALUES") in {(a["feature"], a["type"]) for a in report["anomalies"]}
    assert ("island", "SCHEMA_NEW_COLUMN") in {(a["feature"], a["type"]) for a in report["anomalies"]}
