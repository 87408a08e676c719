"""Dense linear algebra on numpy arrays, without copies."""
import ctypes

import numpy as np

from . import _ffi
from ._errors import KilnError, check


def _operand(array, name):
    """A float32 matrix as BLAS sees it: (array, transposed?, leading dimension), no copy."""
    if not isinstance(array, np.ndarray) or array.dtype != np.float32 or array.ndim != 2:
        raise KilnError(_ffi.ERR_SHAPE_MISMATCH, f"{name} must be a 2-D float32 numpy array, got "
                        f"{getattr(array, 'dtype', type(array).__name__)} with shape {getattr(array, 'shape', None)}")
    item = array.itemsize
    rows, columns = array.shape
    row_stride, column_stride = array.strides
    if (column_stride == item or columns == 1) and row_stride > 0 and row_stride % item == 0:
        return array, _ffi.NO_TRANS, max(row_stride // item, columns)
    if (row_stride == item or rows == 1) and column_stride > 0 and column_stride % item == 0:
        return array, _ffi.TRANS, max(column_stride // item, rows)
    raise KilnError(_ffi.ERR_INVALID_ARGUMENT, f"{name} has strides {array.strides}: one axis must be "
                    "unit-stride (pass np.ascontiguousarray({name}))")


def _pointer(array):
    return array.ctypes.data_as(ctypes.POINTER(ctypes.c_float))


def sgemm(a, b, c=None, *, alpha=1.0, beta=0.0):
    """C = alpha * a @ b + beta * C for float32 matrices, on libkiln's BLAS.

    a and b may be C-ordered, sliced or transposed views (no copy). C is allocated unless
    given; a given C must be a writable, row-major float32 array of shape (m, n) and is
    updated in place (beta scales its old contents). Returns C.
    """
    a, trans_a, lda = _operand(a, "a")
    b, trans_b, ldb = _operand(b, "b")
    m, k = a.shape
    k2, n = b.shape
    if k != k2:
        raise KilnError(_ffi.ERR_SHAPE_MISMATCH, f"a is {a.shape} and b is {b.shape}: inner dimensions differ")
    if c is None:
        c = np.zeros((m, n), dtype=np.float32)
    elif not isinstance(c, np.ndarray) or c.dtype != np.float32 or c.shape != (m, n):
        raise KilnError(_ffi.ERR_SHAPE_MISMATCH, f"c must be a float32 array of shape {(m, n)}")
    elif not c.flags.writeable or c.strides[1] != c.itemsize or c.strides[0] % c.itemsize:
        raise KilnError(_ffi.ERR_INVALID_ARGUMENT, "c must be writable with unit column stride")
    ldc = c.strides[0] // c.itemsize if m > 1 else n
    check(_ffi.lib.kiln_sgemm(trans_a, trans_b, m, n, k, alpha, _pointer(a), lda, _pointer(b), ldb,
                              beta, _pointer(c), ldc))
    return c


def matmul(a, b):
    """a @ b for 2-D float32 arrays, on libkiln's BLAS."""
    return sgemm(a, b)
