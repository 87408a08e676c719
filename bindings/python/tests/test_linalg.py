import ctypes

import numpy as np
import pytest

import kiln
from kiln import _ffi


def reference(a, b):
    return (a.astype(np.float64) @ b.astype(np.float64)).astype(np.float32)


@pytest.mark.parametrize("m,n,k", [(1, 1, 1), (3, 5, 7), (17, 33, 65), (64, 100, 31), (128, 7, 257)])
def test_sgemm_matches_numpy(m, n, k):
    rng = np.random.default_rng(m * 1000 + n * 10 + k)
    a = rng.standard_normal((m, k), dtype=np.float32)
    b = rng.standard_normal((k, n), dtype=np.float32)
    np.testing.assert_allclose(kiln.matmul(a, b), reference(a, b), rtol=1e-4, atol=1e-4 * np.sqrt(k))


def test_views_pass_without_copies():
    rng = np.random.default_rng(0)
    big = rng.standard_normal((40, 50), dtype=np.float32)
    a = big[3:13, 5:25]  # sliced: row stride 50
    bt = rng.standard_normal((7, 20), dtype=np.float32).T  # Fortran-ordered 20x7
    np.testing.assert_allclose(kiln.matmul(a, bt), reference(a, bt), rtol=1e-4, atol=1e-4)
    at = rng.standard_normal((20, 10), dtype=np.float32).T  # 10x20 transposed view
    np.testing.assert_allclose(kiln.matmul(at, bt), reference(at, bt), rtol=1e-4, atol=1e-4)


def test_arrays_without_a_unit_stride_are_refused_not_copied():
    big = np.ones((8, 8), np.float32)
    with pytest.raises(kiln.KilnError) as raised:
        kiln.matmul(big[::2, ::2], big[:4, :4])
    assert "ascontiguousarray" in raised.value.message


def test_alpha_beta_update_c_in_place():
    a = np.arange(6, dtype=np.float32).reshape(2, 3)
    b = np.arange(6, dtype=np.float32).reshape(3, 2)
    c = np.ones((2, 2), dtype=np.float32)
    result = kiln.sgemm(a, b, c, alpha=2.0, beta=-1.0)
    assert result is c
    np.testing.assert_array_equal(c, 2 * (a @ b) - 1)


@pytest.mark.parametrize("a,b,code", [
    (np.zeros((2, 3), np.float64), np.zeros((3, 2), np.float32), _ffi.ERR_SHAPE_MISMATCH),
    (np.zeros((2, 3), np.float32), np.zeros((4, 2), np.float32), _ffi.ERR_SHAPE_MISMATCH),
    (np.zeros((2, 3, 1), np.float32), np.zeros((3, 2), np.float32), _ffi.ERR_SHAPE_MISMATCH),
    (np.zeros((0, 3), np.float32), np.zeros((3, 2), np.float32), _ffi.ERR_INVALID_ARGUMENT),
    ([[1.0]], np.zeros((1, 1), np.float32), _ffi.ERR_SHAPE_MISMATCH),
])
def test_bad_operands_raise(a, b, code):
    with pytest.raises(kiln.KilnError) as raised:
        kiln.matmul(a, b)
    assert raised.value.code == code
    assert raised.value.message


def test_bad_output_raises_and_leaves_it_alone():
    a = np.ones((2, 3), np.float32)
    b = np.ones((3, 2), np.float32)
    wrong_shape = np.full((3, 2), 7, np.float32)
    with pytest.raises(kiln.KilnError):
        kiln.sgemm(a, b, wrong_shape)
    assert (wrong_shape == 7).all()
    read_only = np.zeros((2, 2), np.float32)
    read_only.flags.writeable = False
    with pytest.raises(kiln.KilnError):
        kiln.sgemm(a, b, read_only)


def test_raw_abi_rejects_null_pointers_and_bad_sizes():
    """The C entry point itself checks what a careless caller passes: no crash, a status."""
    a = np.ones((2, 3), np.float32)
    pa = a.ctypes.data_as(ctypes.POINTER(ctypes.c_float))
    null = ctypes.POINTER(ctypes.c_float)()
    lib = _ffi.lib
    assert lib.kiln_sgemm(0, 0, 2, 2, 3, 1.0, null, 3, pa, 2, 0.0, pa, 2) == _ffi.ERR_NULL_POINTER
    assert b"A is NULL" in lib.kiln_last_error()
    assert lib.kiln_sgemm(0, 0, -2, 2, 3, 1.0, pa, 3, pa, 2, 0.0, pa, 2) == _ffi.ERR_INVALID_ARGUMENT
    assert lib.kiln_sgemm(0, 0, 1 << 40, 2, 3, 1.0, pa, 3, pa, 2, 0.0, pa, 2) == _ffi.ERR_INVALID_ARGUMENT
    assert lib.kiln_sgemm(0, 0, 2, 2, 3, 1.0, pa, 1, pa, 2, 0.0, pa, 2) == _ffi.ERR_INVALID_ARGUMENT
    assert lib.kiln_sgemm(7, 0, 2, 2, 3, 1.0, pa, 3, pa, 2, 0.0, pa, 2) == _ffi.ERR_INVALID_ARGUMENT
    assert (a == 1).all()
