"""TF-Transform-style preprocessing: analyze once, apply identically at training and serving.

    graph = kiln.transform.analyze(spec, "train.csv")      # or a dict of numpy arrays
    features = graph.apply({"age": ages, "chest pain": pains})
    graph.save("graph.json"); kiln.transform.TransformGraph.load("graph.json")
"""
import ctypes
import json
import os

from . import _ffi
from ._errors import KilnError, check
from .tabular import Table, csv_options_json

_TYPES = {_ffi.COLUMN_FLOAT: "float", _ffi.COLUMN_INT: "int", _ffi.COLUMN_BOOL: "bool", _ffi.COLUMN_STRING: "string"}


def _spec_text(spec):
    if isinstance(spec, dict):
        return json.dumps(spec).encode()
    if isinstance(spec, (str, os.PathLike)) and os.path.isfile(spec):
        with open(spec, "rb") as file:
            return file.read()
    if isinstance(spec, str):
        return spec.encode()
    raise KilnError(_ffi.ERR_INVALID_ARGUMENT, "spec must be a dict, JSON text or a path to a JSON file")


def analyze(spec, data, *, delimiter=None, types=None, missing=None, bad_rows=None):
    """Runs the full pass of `spec` (dict, JSON text or path) over `data`: a CSV path (streamed,
    multithreaded; the CSV keyword options apply) or a dict of numpy arrays. Returns the graph."""
    handle = ctypes.c_void_p()
    text = _spec_text(spec)
    if isinstance(data, dict):
        table = Table.from_arrays(data)
        try:
            check(_ffi.lib.kiln_transform_analyze_table(text, table._handle, ctypes.byref(handle)))
        finally:
            table.close()
    elif isinstance(data, (str, os.PathLike)):
        options = csv_options_json(delimiter, types, missing, bad_rows)
        check(_ffi.lib.kiln_transform_analyze_csv(text, os.fsencode(data), options, ctypes.byref(handle)))
    else:
        raise KilnError(_ffi.ERR_INVALID_ARGUMENT, "data must be a CSV path or a dict of numpy arrays")
    return TransformGraph(handle)


def analyze_partial(spec, data, *, delimiter=None, types=None, missing=None, bad_rows=None):
    """The partial analysis of one shard (bytes, Kiln's mergeable binary form): run it on each
    worker of a distributed job, then `merge` the results."""
    pointer = ctypes.c_void_p()
    size = ctypes.c_size_t()
    text = _spec_text(spec)
    if isinstance(data, dict):
        table = Table.from_arrays(data)
        try:
            check(_ffi.lib.kiln_transform_partial_table(text, table._handle, ctypes.byref(pointer), ctypes.byref(size)))
        finally:
            table.close()
    elif isinstance(data, (str, os.PathLike)):
        options = csv_options_json(delimiter, types, missing, bad_rows)
        check(_ffi.lib.kiln_transform_partial_csv(text, os.fsencode(data), options, ctypes.byref(pointer), ctypes.byref(size)))
    else:
        raise KilnError(_ffi.ERR_INVALID_ARGUMENT, "data must be a CSV path or a dict of numpy arrays")
    try:
        return ctypes.string_at(pointer, size.value)
    finally:
        _ffi.lib.kiln_free(pointer)


def merge(partials):
    """The transform graph of partial analyses (bytes from `analyze_partial` or
    `kiln transform analyze --partial-out`), merged in the order given."""
    partials = [bytes(partial) for partial in partials]
    count = len(partials)
    buffers = (ctypes.c_void_p * max(count, 1))(*[ctypes.cast(ctypes.c_char_p(p), ctypes.c_void_p) for p in partials])
    sizes = (ctypes.c_size_t * max(count, 1))(*[len(p) for p in partials])
    handle = ctypes.c_void_p()
    check(_ffi.lib.kiln_transform_merge(buffers, sizes, count, ctypes.byref(handle)))
    return TransformGraph(handle)


class TransformGraph:
    """A transform graph (immutable, shareable across threads)."""

    def __init__(self, handle):
        self._handle = handle

    @classmethod
    def load(cls, path):
        handle = ctypes.c_void_p()
        check(_ffi.lib.kiln_transform_graph_load(os.fsencode(path), ctypes.byref(handle)))
        return cls(handle)

    @classmethod
    def from_json(cls, text):
        handle = ctypes.c_void_p()
        check(_ffi.lib.kiln_transform_graph_load_json(text.encode() if isinstance(text, str) else text,
                                                      ctypes.byref(handle)))
        return cls(handle)

    def to_json(self):
        """The graph's JSON text (format kiln.transform_graph/1)."""
        pointer = ctypes.c_void_p()
        check(_ffi.lib.kiln_transform_graph_to_json(self._live(), ctypes.byref(pointer)))
        try:
            return ctypes.string_at(pointer).decode()
        finally:
            _ffi.lib.kiln_free(pointer)

    def save(self, path):
        with open(path, "w") as file:
            file.write(self.to_json() + "\n")

    @property
    def output_schema(self):
        """[{"name", "type", "width"}] of the outputs, in order."""
        count = ctypes.c_size_t()
        check(_ffi.lib.kiln_transform_output_count(self._live(), ctypes.byref(count)))
        schema = []
        for index in range(count.value):
            name = ctypes.c_char_p()
            kind = ctypes.c_int32()
            width = ctypes.c_size_t()
            check(_ffi.lib.kiln_transform_output_info(self._handle, index, ctypes.byref(name), ctypes.byref(kind),
                                                      ctypes.byref(width)))
            schema.append({"name": name.value.decode(), "type": _TYPES[kind.value], "width": width.value})
        return schema

    def apply(self, data):
        """Transforms a dict of numpy arrays (the graph's input columns); returns a dict of
        output name -> numpy array (see kiln.tabular for types and missing values)."""
        table = Table.from_arrays(data)
        try:
            handle = ctypes.c_void_p()
            check(_ffi.lib.kiln_transform_apply(self._live(), table._handle, ctypes.byref(handle)))
        finally:
            table.close()
        result = Table(handle)
        try:
            return result.to_arrays()
        finally:
            result.close()

    def apply_instance(self, instance):
        """Transforms one record {column: value} (None = missing); returns {output: value}."""
        import numpy as np
        columns = {}
        for name, value in instance.items():
            if value is None or isinstance(value, str):
                columns[name] = np.array([value], dtype=object)
            else:
                columns[name] = np.array([value])
        outputs = self.apply(columns)
        return {name: (None if np.ma.is_masked(values[0]) else values[0]) for name, values in outputs.items()}

    def _live(self):
        if self._handle is None:
            raise KilnError(_ffi.ERR_INVALID_ARGUMENT, "the transform graph is closed")
        return self._handle

    def close(self):
        if self._handle is not None:
            _ffi.lib.kiln_transform_graph_free(self._handle)
            self._handle = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        self.close()
