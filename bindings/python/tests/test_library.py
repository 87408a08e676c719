import os
import subprocess
import sys

import pytest

import kiln
from kiln import _ffi


def test_version_and_abi():
    assert kiln.__version__ == kiln.version()
    assert kiln.__version__.count(".") == 2
    assert _ffi.lib.kiln_abi_version() == kiln.ABI_VERSION


def test_info_reports_blas_and_cpu():
    info = kiln.info()
    assert info["version"] == kiln.__version__
    assert info["openblas"]["core"]
    assert "OpenBLAS" in info["openblas"]["config"]
    assert info["threads"] >= 1
    assert isinstance(info["cpu_features"], list)


def test_threads_round_trip_and_errors():
    kiln.set_num_threads(1)
    assert kiln.get_num_threads() == 1
    assert kiln.info()["openblas"]["threads"] == 1
    with pytest.raises(kiln.KilnError) as raised:
        kiln.set_num_threads(-3)
    assert raised.value.code == _ffi.ERR_INVALID_ARGUMENT
    assert "thread count" in str(raised.value)
    kiln.set_num_threads(0)
    assert kiln.get_num_threads() >= 1


def test_missing_library_is_a_clear_import_error(tmp_path):
    env = dict(os.environ, KILN_LIBRARY=str(tmp_path / "absent.so"))
    result = subprocess.run([sys.executable, "-c", "import kiln"], env=env, capture_output=True, text=True)
    assert result.returncode != 0
    assert "libkiln.so not found" in result.stderr


def test_status_strings():
    assert _ffi.lib.kiln_status_string(_ffi.OK) == b"ok"
    assert _ffi.lib.kiln_status_string(999) == b"unknown status"
