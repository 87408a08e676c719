"""Data validation in the style of TFDV: statistics (schema and anomalies come next).

    stats = kiln.validation.generate_statistics("train.csv")           # or a dict of numpy arrays
    stats["features"][0]["mean"], stats["num_invalid_rows"]
"""
import ctypes
import json
import os

from . import _ffi
from ._errors import KilnError, check
from .tabular import Table, csv_options_json


def _owned_json(pointer):
    try:
        return json.loads(ctypes.string_at(pointer).decode())
    finally:
        _ffi.lib.kiln_free(pointer)


def generate_statistics(data, *, slice=None, delimiter=None, types=None, missing=None, header=None):
    """Statistics (a dict, format kiln.statistics/1) of a CSV file (streamed; malformed rows are
    counted as invalid) or of a dict of numpy arrays; `slice` also summarises each value of
    that column."""
    pointer = ctypes.c_void_p()
    slice_name = None if slice is None else str(slice).encode()
    if isinstance(data, dict):
        table = Table.from_arrays(data)
        try:
            check(_ffi.lib.kiln_statistics_from_table(table._handle, slice_name, ctypes.byref(pointer)))
        finally:
            table.close()
    elif isinstance(data, (str, os.PathLike)):
        options = csv_options_json(delimiter, types, missing, None, header)
        check(_ffi.lib.kiln_statistics_from_csv(os.fsencode(data), options, slice_name, ctypes.byref(pointer)))
    else:
        raise KilnError(_ffi.ERR_INVALID_ARGUMENT, "data must be a CSV path or a dict of numpy arrays")
    return _owned_json(pointer)
