"""Kiln: a production-ML toolkit with a fast native core (libkiln.so), from Python.

numpy arrays pass to the library by pointer, without copies. Errors raise KilnError.
"""
from . import _ffi
from ._errors import KilnError
from ._library import get_num_threads, info, set_num_threads, version
from .linalg import matmul, sgemm
from .nn import Model

__version__ = version()
ABI_VERSION = _ffi.ABI_VERSION

__all__ = ["KilnError", "Model", "get_num_threads", "info", "matmul", "set_num_threads", "sgemm", "version"]
