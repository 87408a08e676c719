"""Data validation in the style of TFDV: statistics, schema inference, anomalies, drift and skew.

    stats = kiln.validation.generate_statistics("train.csv")           # or a dict of numpy arrays
    schema = kiln.validation.infer_schema(stats, not_in_serving=["label"])
    report = kiln.validation.validate(new_stats, schema, baseline=stats)   # anomalies, drift, skew
    kiln.validation.compare(new_stats, stats)                            # drift values per feature

Statistics, schemas and reports are plain dicts (the same JSON the CLI writes).
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


def _text(document):
    if document is None:
        return None
    if isinstance(document, (str, os.PathLike)) and os.path.isfile(document):
        with open(document, "rb") as file:
            return file.read()
    if isinstance(document, dict):
        return json.dumps(document).encode()
    if isinstance(document, str):
        return document.encode()
    raise KilnError(_ffi.ERR_INVALID_ARGUMENT, "expected a dict, JSON text or a path to a JSON file")


def infer_schema(statistics, *, infer_ranges=False, not_in_serving=(), max_domain_size=50):
    """A schema (dict, format kiln.schema/1) inferred from statistics (dict, JSON text or path)."""
    options = json.dumps({"infer_ranges": bool(infer_ranges), "not_in_serving": list(not_in_serving),
                          "max_domain_size": int(max_domain_size)}).encode()
    pointer = ctypes.c_void_p()
    check(_ffi.lib.kiln_schema_infer(_text(statistics), options, ctypes.byref(pointer)))
    return _owned_json(pointer)


def validate(statistics, schema, *, baseline=None, serving=None, environment=None):
    """Anomalies of `statistics` against `schema`, with drift against `baseline` and skew
    against `serving` statistics (dict, format kiln.anomalies/1)."""
    pointer = ctypes.c_void_p()
    check(_ffi.lib.kiln_validate(_text(statistics), _text(schema), _text(baseline), _text(serving),
                                 None if environment is None else environment.encode(), ctypes.byref(pointer)))
    return _owned_json(pointer)


def compare(current, baseline, *, schema=None):
    """Drift values of every feature between two statistics, with the schema's comparators
    (default: a schema inferred from the baseline: L-infinity for strings, Jensen-Shannon for
    numbers). Returns {feature: {"comparator", "value", "threshold", "anomalous", "measures"}}."""
    chosen = schema if schema is not None else infer_schema(baseline)
    report = validate(current, chosen, baseline=baseline)
    return {entry["feature"]: {k: v for k, v in entry.items() if k != "feature"} for entry in report["drift"]}
