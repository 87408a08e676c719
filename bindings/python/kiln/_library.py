"""Versions, threads and build information."""
import ctypes
import json

from . import _ffi
from ._errors import check


def version():
    """The version of the loaded libkiln.so, "MAJOR.MINOR.PATCH"."""
    return _ffi.lib.kiln_version().decode()


def set_num_threads(count):
    """Threads Kiln computes with, GEMMs included (1...1024), or 0 for the default."""
    check(_ffi.lib.kiln_set_num_threads(int(count)))


def get_num_threads():
    return _ffi.lib.kiln_get_num_threads()


def info():
    """Build, CPU, threads and OpenBLAS core, as `kiln info --json` reports them."""
    pointer = ctypes.c_void_p()
    check(_ffi.lib.kiln_info_json(ctypes.byref(pointer)))
    try:
        return json.loads(ctypes.string_at(pointer.value).decode())
    finally:
        _ffi.lib.kiln_free(pointer)
