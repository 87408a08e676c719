"""Image augmentation with albumentations' names, seeded and reproducible, and JPEG/PNG I/O.

    pipeline = kiln.vision.Pipeline({"transforms": [{"name": "RandomResizedCrop", "size": [224, 224]},
                                                    {"name": "HorizontalFlip", "p": 0.5},
                                                    {"name": "Normalize", "layout": "CHW"}]})
    tensor = pipeline.batch(images, seed=1, start_index=0)   # float32 [N, 3, 224, 224]
    augmented = pipeline(image, seed=1, index=7)              # sample 7 alone (same values)

Images are numpy uint8 arrays (H, W) or (H, W, C) with 1, 3 or 4 channels, any strides (views
such as image[::-1] are read in place). Sample i of a seed depends on (seed, i) only.
"""
import ctypes
import json
import os

import numpy as np

from . import _ffi
from ._errors import KilnError, check


def _view(image):
    if not isinstance(image, np.ndarray) or image.dtype != np.uint8:
        raise KilnError(_ffi.ERR_INVALID_ARGUMENT, "images are numpy uint8 arrays (H, W) or (H, W, C)")
    if image.ndim == 2:
        image = image[:, :, None]
    if image.ndim != 3:
        raise KilnError(_ffi.ERR_INVALID_ARGUMENT, f"an image is (H, W) or (H, W, C), got shape {image.shape}")
    height, width, channels = image.shape
    return _ffi.ImageView(image.ctypes.data, height, width, channels, image.strides[0], image.strides[1], image.strides[2]), image


def _take_image(handle):
    try:
        height, width, channels = ctypes.c_int64(), ctypes.c_int64(), ctypes.c_int64()
        check(_ffi.lib.kiln_image_info(handle, ctypes.byref(height), ctypes.byref(width), ctypes.byref(channels)))
        out = np.empty((height.value, width.value, channels.value), dtype=np.uint8)
        check(_ffi.lib.kiln_image_copy(handle, out.ctypes.data, out.nbytes))
        return out
    finally:
        _ffi.lib.kiln_image_free(handle)


def decode(data):
    """JPEG (EXIF orientation applied) or PNG bytes -> uint8 (H, W, C), RGB order."""
    data = bytes(data)
    handle = ctypes.c_void_p()
    check(_ffi.lib.kiln_image_decode(data, len(data), ctypes.byref(handle)))
    return _take_image(handle)


def encode(image, format="png", quality=95):
    """uint8 (H, W[, C]) -> PNG or JPEG bytes."""
    view, _keep = _view(image)
    out, size = ctypes.c_void_p(), ctypes.c_size_t()
    check(_ffi.lib.kiln_image_encode(ctypes.byref(view), format.encode(), quality, ctypes.byref(out), ctypes.byref(size)))
    try:
        return ctypes.string_at(out, size.value)
    finally:
        _ffi.lib.kiln_free(out)


def read(path):
    with open(path, "rb") as file:
        return decode(file.read())


def write(path, image, quality=95):
    format = "jpeg" if str(path).lower().endswith((".jpg", ".jpeg")) else "png"
    with open(path, "wb") as file:
        file.write(encode(image, format, quality))


class Pipeline:
    """An augmentation pipeline from a dict, JSON text or a JSON file's path."""

    def __init__(self, spec):
        if isinstance(spec, dict):
            text = json.dumps(spec)
        elif isinstance(spec, (str, os.PathLike)) and os.path.isfile(spec):
            with open(spec) as file:
                text = file.read()
        elif isinstance(spec, str):
            text = spec
        else:
            raise KilnError(_ffi.ERR_INVALID_ARGUMENT, "spec must be a dict, JSON text or a path to a JSON file")
        self._handle = ctypes.c_void_p()
        check(_ffi.lib.kiln_augment_pipeline_create(text.encode(), ctypes.byref(self._handle)))
        normalizes, chw = ctypes.c_int32(), ctypes.c_int32()
        check(_ffi.lib.kiln_augment_pipeline_info(self._handle, ctypes.byref(normalizes), ctypes.byref(chw)))
        self.normalizes = bool(normalizes.value)
        self.layout = "CHW" if chw.value else "HWC"

    def __del__(self):
        handle = getattr(self, "_handle", None)
        if handle:
            _ffi.lib.kiln_augment_pipeline_free(handle)
            self._handle = None

    def __call__(self, image, seed=0, index=0, replay=False):
        """Sample `index` of `seed`: float32 when the pipeline ends with Normalize (the same values
        as that sample's slot in `batch`), else uint8 (H, W, C). With replay=True, also the
        parameters each transform drew."""
        if self.normalizes and not replay:
            return self.batch([image], seed=seed, start_index=index)[0]
        view, _keep = _view(image)
        handle, record = ctypes.c_void_p(), ctypes.c_void_p()
        check(_ffi.lib.kiln_augment_apply(self._handle, ctypes.byref(view), seed, index, ctypes.byref(handle),
                                          ctypes.byref(record) if replay else None))
        output = _take_image(handle)
        if not replay:
            return output
        try:
            steps = json.loads(ctypes.string_at(record).decode())
        finally:
            _ffi.lib.kiln_free(record)
        if self.normalizes:
            output = self.batch([image], seed=seed, start_index=index)[0]
        return output, steps

    def batch(self, images, seed=0, start_index=0):
        """Samples start_index, start_index + 1, ... on Kiln's threads, straight into one float32
        array [N, C, H, W] (or [N, H, W, C] for Normalize's HWC); value / 255 without Normalize."""
        views = [_view(image) for image in images]
        if not views:
            raise KilnError(_ffi.ERR_INVALID_ARGUMENT, "batch: no images")
        array = (_ffi.ImageView * len(views))(*[view for view, _ in views])
        shape = (ctypes.c_int64 * 4)()
        check(_ffi.lib.kiln_augment_batch(self._handle, array, len(views), seed, start_index, None, 0, shape))
        out = np.empty(tuple(shape), dtype=np.float32)
        check(_ffi.lib.kiln_augment_batch(self._handle, array, len(views), seed, start_index, out.ctypes.data, out.size,
                                          shape))
        return out
