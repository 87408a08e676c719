"""KilnError, and the translation of kiln_status codes into it."""
from . import _ffi


class KilnError(Exception):
    """An error reported by Kiln: `code` is the C ABI's kiln_status, `message` what went wrong."""

    def __init__(self, code, message):
        super().__init__(f"{message} ({_ffi.lib.kiln_status_string(code).decode()})")
        self.code = code
        self.message = message


def check(status):
    """Raises KilnError for a non-OK status, with the calling thread's kiln_last_error()."""
    if status != _ffi.OK:
        raise KilnError(status, _ffi.lib.kiln_last_error().decode("utf-8", "replace"))
