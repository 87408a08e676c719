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
