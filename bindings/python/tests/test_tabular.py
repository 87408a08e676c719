"""Kiln's CSV reader against pandas on the real datasets in examples/data."""
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import kiln

DATA = Path(__file__).resolve().parents[3] / "examples" / "data"
DATASETS = ["penguins.csv", "titanic.csv", "wage_islr.csv", "cps1985_wages.csv", "slid_wages.csv", "pbc_patients.csv"]


@pytest.mark.parametrize("name", DATASETS)
def test_reads_like_pandas(name):
    ours = kiln.read_csv(DATA / name)
    theirs = pd.read_csv(DATA / name, keep_default_na=False, na_values=["", "NA", "N/A", "null", "NULL"])
    assert list(ours) == list(theirs.columns)
    for column in theirs.columns:
        expected = theirs[column]
        got = ours[column]
        missing = expected.isna().to_numpy()
        if expected.dtype.kind in "if":
            values = np.ma.getdata(got).astype(np.float64)
            present = ~np.ma.getmaskarray(got) if np.ma.isMaskedArray(got) else ~np.isnan(values)
            assert (present == ~missing).all(), column
            np.testing.assert_array_equal(values[present], expected.to_numpy(dtype=np.float64)[~missing], err_msg=column)
            if expected.dtype.kind == "i":
                assert got.dtype == np.int64, column
        else:
            assert [None if m else v for v, m in zip(expected.tolist(), missing)] == list(got), column


def test_malformed_csv_is_an_error_with_line_and_column(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("a,b\n1,2\n3,\"x\n")
    with pytest.raises(kiln.KilnError) as error:
        kiln.read_csv(path)
    assert "line 3" in error.value.message and error.value.code == 5
    path.write_text("a,b\n1,2\n3\n4,5\n")
    with pytest.raises(kiln.KilnError, match="line 3: expected 2 fields, found 1"):
        kiln.read_csv(path)
    assert list(kiln.read_csv(path, bad_rows="skip")["a"]) == [1, 4]
    with pytest.raises(kiln.KilnError, match="cannot read 'x' as float"):
        path.write_text("a\n1\nx\n")
        kiln.read_csv(path, types={"a": "float"})
    with pytest.raises(kiln.KilnError, match="unknown column type"):
        kiln.read_csv(path, types={"a": "double"})
    with pytest.raises(kiln.KilnError):
        kiln.read_csv(tmp_path / "missing.csv")


def test_options_delimiter_missing_tokens_and_header(tmp_path):
    path = tmp_path / "semi.csv"
    path.write_text("1;?;x\n2;3.5;y\n")
    table = kiln.read_csv(path, delimiter=";", missing=["?"], header=False)
    assert list(table) == ["column_1", "column_2", "column_3"]
    assert np.isnan(table["column_2"][0]) and table["column_2"][1] == 3.5
