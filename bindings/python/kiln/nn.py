"""CNN inference on ONNX models: kiln.Model("m.onnx").run({"x": array}) -> {name: array}."""
import ctypes
import os
import threading

import numpy as np

from . import _ffi
from ._errors import KilnError, check

_DTYPES = {
    _ffi.DTYPE_FLOAT32: np.dtype(np.float32), _ffi.DTYPE_UINT8: np.dtype(np.uint8),
    _ffi.DTYPE_INT32: np.dtype(np.int32), _ffi.DTYPE_INT64: np.dtype(np.int64),
}
_CODES = {dtype: code for code, dtype in _DTYPES.items()}


class TensorInfo:
    """A declared input or output: name, numpy dtype and shape (None for a symbolic dimension)."""

    def __init__(self, tensor):
        self.name = tensor.name.decode()
        self.dtype = _DTYPES[tensor.dtype]
        self.shape = tuple(None if d < 0 else int(d) for d in tensor.shape[:tensor.rank])

    def __repr__(self):
        return f"TensorInfo({self.name!r}, {self.dtype}, {self.shape})"


class Model:
    """An ONNX model loaded by Kiln (optimised once). run() is thread-safe: each thread gets its
    own session on the shared model. close() (or a with-block) releases it."""

    def __init__(self, source, *, threads=0):
        """source: a path, or the model's bytes. threads: 0 keeps kiln.set_num_threads's count."""
        handle = ctypes.c_void_p()
        if isinstance(source, (bytes, bytearray, memoryview)):
            data = bytes(source)
            check(_ffi.lib.kiln_model_load_from_memory(data, len(data), ctypes.byref(handle)))
        else:
            check(_ffi.lib.kiln_model_load(os.fsencode(source), ctypes.byref(handle)))
        self._handle = handle
        self._threads = int(threads)
        self._local = threading.local()
        self._sessions = []
        self._lock = threading.Lock()
        self.inputs = self._infos(_ffi.lib.kiln_model_input_count, _ffi.lib.kiln_model_input_info)
        self.outputs = self._infos(_ffi.lib.kiln_model_output_count, _ffi.lib.kiln_model_output_info)

    def _infos(self, count_function, info_function):
        count = ctypes.c_size_t()
        check(count_function(self._handle, ctypes.byref(count)))
        infos = []
        for index in range(count.value):
            tensor = _ffi.Tensor()
            check(info_function(self._handle, index, ctypes.byref(tensor)))
            infos.append(TensorInfo(tensor))
        return infos

    def _session(self):
        if self._handle is None:
            raise KilnError(_ffi.ERR_INVALID_ARGUMENT, "the model is closed")
        session = getattr(self._local, "session", None)
        if session is None:
            options = _ffi.SessionOptions(self._threads)
            session = ctypes.c_void_p()
            check(_ffi.lib.kiln_session_create(self._handle, ctypes.byref(options), ctypes.byref(session)))
            self._local.session = session
            with self._lock:
                self._sessions.append(session)
        return session

    def run(self, inputs):
        """Runs the model on {name: numpy array}; returns {output name: numpy array}.

        Arrays must have the model's dtypes (no silent casts); C-contiguous arrays are passed
        without a copy, others are made contiguous first.
        """
        if not isinstance(inputs, dict):
            raise KilnError(_ffi.ERR_INVALID_ARGUMENT, "inputs must be a dict of name -> numpy array")
        arrays = []
        tensors = (_ffi.Tensor * max(len(inputs), 1))()
        for index, (name, value) in enumerate(inputs.items()):
            array = np.asarray(value)
            if not array.flags.c_contiguous:
                array = np.ascontiguousarray(array)
            if array.dtype not in _CODES:
                raise KilnError(_ffi.ERR_SHAPE_MISMATCH, f"input {name!r} has dtype {array.dtype}; "
                                "Kiln takes float32, uint8, int32 or int64")
            if array.ndim > _ffi.MAX_RANK:
                raise KilnError(_ffi.ERR_INVALID_ARGUMENT, f"input {name!r} has rank {array.ndim} > {_ffi.MAX_RANK}")
            arrays.append(array)
            tensor = tensors[index]
            tensor.name = str(name).encode()
            tensor.dtype = _CODES[array.dtype]
            tensor.rank = array.ndim
            for axis, size in enumerate(array.shape):
                tensor.shape[axis] = size
            tensor.data = array.ctypes.data
            tensor.byte_size = array.nbytes
        session = self._session()
        outputs = (_ffi.Tensor * len(self.outputs))()
        check(_ffi.lib.kiln_session_output_shapes(session, tensors, len(inputs), outputs, len(self.outputs)))
        results = []
        for output in outputs:
            array = np.empty(tuple(output.shape[:output.rank]), dtype=_DTYPES[output.dtype])
            output.data = array.ctypes.data
            output.byte_size = array.nbytes
            results.append(array)
        check(_ffi.lib.kiln_session_run(session, tensors, len(inputs), outputs, len(self.outputs)))
        return {info.name: array for info, array in zip(self.outputs, results)}

    def close(self):
        with self._lock:
            for session in self._sessions:
                _ffi.lib.kiln_session_free(session)
            self._sessions.clear()
        if self._handle is not None:
            _ffi.lib.kiln_model_free(self._handle)
            self._handle = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        try:
            self.close()
        except Exception:
            pass
