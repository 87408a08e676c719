"""Columnar data between numpy and Kiln: dicts of arrays in, dicts of arrays out.

In: float arrays pass as float (NaN is a value), integer arrays as int, bool arrays as bool,
arrays of str/bytes/None (object or unicode dtype) as strings. A numpy masked array marks
missing values; None in an object array is missing too.
Out: float columns as float64 (missing -> NaN), multi-valued outputs as float64 (rows, width),
int and bool columns as int64/bool arrays (a numpy masked array when some values are missing),
string columns as object arrays (missing -> None).
"""
import ctypes
import json
import os

import numpy as np

from . import _ffi
from ._errors import KilnError, check


class Table:
    """Owns a kiln_table handle."""

    def __init__(self, handle):
        self._handle = handle

    @classmethod
    def from_arrays(cls, columns):
        if not isinstance(columns, dict):
            raise KilnError(_ffi.ERR_INVALID_ARGUMENT, "data must be a dict of column name -> 1-D array")
        handle = ctypes.c_void_p()
        check(_ffi.lib.kiln_table_create(ctypes.byref(handle)))
        table = cls(handle)
        for name, values in columns.items():
            table._add(str(name), values)
        return table

    def _add(self, name, values):
        mask = np.ma.getmaskarray(values) if isinstance(values, np.ma.MaskedArray) else None
        array = np.ma.getdata(values) if mask is not None else np.asarray(values)
        if array.ndim != 1:
            raise KilnError(_ffi.ERR_SHAPE_MISMATCH, f"column '{name}' must be 1-D, got shape {array.shape}")
        rows = len(array)
        valid = None if mask is None else np.ascontiguousarray(~mask, dtype=np.uint8)
        valid_pointer = None if valid is None else valid.ctypes.data
        encoded = name.encode()
        if array.dtype.kind == "f":
            data = np.ascontiguousarray(array, dtype=np.float64)
            check(_ffi.lib.kiln_table_add_float(self._handle, encoded, data.ctypes.data, valid_pointer, rows))
        elif array.dtype.kind in "iu":
            data = np.ascontiguousarray(array, dtype=np.int64)
            check(_ffi.lib.kiln_table_add_int(self._handle, encoded, data.ctypes.data, valid_pointer, rows))
        elif array.dtype.kind == "b":
            data = np.ascontiguousarray(array, dtype=np.uint8)
            check(_ffi.lib.kiln_table_add_bool(self._handle, encoded, data.ctypes.data, valid_pointer, rows))
        elif array.dtype.kind in "OUS":
            pieces = []
            offsets = np.zeros(rows + 1, dtype=np.int64)
            present = np.ones(rows, dtype=np.uint8) if valid is None else valid.copy()
            total = 0
            for index, item in enumerate(array.tolist()):
                if item is None or present[index] == 0:
                    present[index] = 0
                    piece = b""
                elif isinstance(item, bytes):
                    piece = item
                elif isinstance(item, str):
                    piece = item.encode("utf-8")
                else:
                    raise KilnError(_ffi.ERR_SHAPE_MISMATCH,
                                    f"column '{name}' mixes strings with {type(item).__name__} values (row {index})")
                pieces.append(piece)
                total += len(piece)
                offsets[index + 1] = total
            blob = b"".join(pieces)
            check(_ffi.lib.kiln_table_add_string(self._handle, encoded, blob, offsets.ctypes.data,
                                                 present.ctypes.data, rows))
        else:
            raise KilnError(_ffi.ERR_UNSUPPORTED, f"column '{name}' has dtype {array.dtype}, which Kiln cannot read")

    def to_arrays(self):
        rows = ctypes.c_size_t()
        check(_ffi.lib.kiln_table_row_count(self._handle, ctypes.byref(rows)))
        count = ctypes.c_size_t()
        check(_ffi.lib.kiln_table_column_count(self._handle, ctypes.byref(count)))
        n = rows.value
        result = {}
        for index in range(count.value):
            name = ctypes.c_char_p()
            kind = ctypes.c_int32()
            width = ctypes.c_size_t()
            check(_ffi.lib.kiln_table_column_info(self._handle, index, ctypes.byref(name), ctypes.byref(kind),
                                                  ctypes.byref(width)))
            valid = np.ones(n, dtype=np.uint8)
            if kind.value == _ffi.COLUMN_FLOAT:
                shape = (n,) if width.value == 1 else (n, width.value)
                values = np.empty(shape, dtype=np.float64)
                check(_ffi.lib.kiln_table_get_float(self._handle, index, values.ctypes.data, values.size,
                                                    valid.ctypes.data))
                if width.value == 1:
                    values[valid == 0] = np.nan
            elif kind.value in (_ffi.COLUMN_INT, _ffi.COLUMN_BOOL):
                getter, dtype = ((_ffi.lib.kiln_table_get_int, np.int64) if kind.value == _ffi.COLUMN_INT
                                 else (_ffi.lib.kiln_table_get_bool, np.uint8))
                values = np.empty(n, dtype=dtype)
                check(getter(self._handle, index, values.ctypes.data, n, valid.ctypes.data))
                if dtype is np.uint8:
                    values = values.astype(bool)
                if not valid.all():
                    values = np.ma.MaskedArray(values, mask=valid == 0)
            else:
                size = ctypes.c_size_t()
                check(_ffi.lib.kiln_table_get_string(self._handle, index, None, 0, None, None, ctypes.byref(size)))
                blob = ctypes.create_string_buffer(max(size.value, 1))
                offsets = np.empty(n + 1, dtype=np.int64)
                check(_ffi.lib.kiln_table_get_string(self._handle, index, blob, size.value, offsets.ctypes.data,
                                                     valid.ctypes.data, ctypes.byref(size)))
                raw = blob.raw
                values = np.array([raw[offsets[i]:offsets[i + 1]].decode("utf-8") if valid[i] else None
                                   for i in range(n)], dtype=object)
            result[name.value.decode()] = values
        return result

    def close(self):
        if self._handle is not None:
            _ffi.lib.kiln_table_free(self._handle)
            self._handle = None

    def __del__(self):
        self.close()


def csv_options_json(delimiter=None, types=None, missing=None, bad_rows=None, header=None):
    options = {}
    if delimiter is not None:
        options["delimiter"] = delimiter
    if types is not None:
        options["types"] = dict(types)
    if missing is not None:
        options["missing"] = list(missing)
    if bad_rows is not None:
        options["bad_rows"] = bad_rows
    if header is not None:
        options["header"] = bool(header)
    return json.dumps(options).encode() if options else None


def read_csv(path, *, delimiter=None, types=None, missing=None, bad_rows=None, header=None):
    """Reads a CSV file with Kiln's reader (RFC 4180, type inference, missing tokens) into a
    dict of numpy arrays. Malformed rows raise KilnError naming line and column."""
    handle = ctypes.c_void_p()
    check(_ffi.lib.kiln_table_read_csv(os.fsencode(path), csv_options_json(delimiter, types, missing, bad_rows, header),
                                       ctypes.byref(handle)))
    table = Table(handle)
    try:
        return table.to_arrays()
    finally:
        table.close()
