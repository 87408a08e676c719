"""Kiln: a production-ML toolkit with a fast native core (libkiln.so), from Python.

numpy arrays pass to the library by pointer, without copies. Errors raise KilnError.
"""
from . import _ffi
from ._errors import KilnError
from ._library import get_num_threads, info, set_num_threads, version
from .linalg import matmul, sgemm
from .nn import Model
from . import tabular, transform, validation, vision
from .tabular import read_csv

__version__ = version()
ABI_VERSION = _ffi.ABI_VERSION

__all__ = [
    "KilnError", "Model", "get_num_threads", "info", "matmul", "read_csv", "set_num_threads", "sgemm", "tabular",
    "transform", "validation", "version", "vision",
]
