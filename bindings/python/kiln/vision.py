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
import math
import os
import sys
import threading

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
    return _ffi.ImageView(_address(image), height, width, channels, image.strides[0], image.strides[1], image.strides[2]), image


def _take_image(handle):
    try:
        height, width, channels = ctypes.c_int64(), ctypes.c_int64(), ctypes.c_int64()
        check(_ffi.lib.kiln_image_info(handle, ctypes.byref(height), ctypes.byref(width), ctypes.byref(channels)))
        out = np.empty((height.value, width.value, channels.value), dtype=np.uint8)
        check(_ffi.lib.kiln_image_copy(handle, _address(out), out.nbytes))
        return out
    finally:
        _ffi.lib.kiln_image_free(handle)


def decode(data):
    """JPEG (EXIF orientation applied) or PNG bytes -> uint8 (H, W, C), RGB order: decoded
    straight into the returned array."""
    data = bytes(data)
    height, width, channels = ctypes.c_int64(), ctypes.c_int64(), ctypes.c_int64()
    sizes = (ctypes.byref(height), ctypes.byref(width), ctypes.byref(channels))
    check(_ffi.lib.kiln_image_decode_into(data, len(data), None, 0, *sizes))
    out = np.empty((height.value, width.value, channels.value), dtype=np.uint8)
    check(_ffi.lib.kiln_image_decode_into(data, len(data), _address(out), out.nbytes, *sizes))
    return out


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
        self._last_shape = None  # (input shape, sample shape) of the last single-image call

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
        if not replay:
            return self._apply_into(view, seed, index)
        handle, record = ctypes.c_void_p(), ctypes.c_void_p()
        check(_ffi.lib.kiln_augment_apply(self._handle, ctypes.byref(view), seed, index, ctypes.byref(handle),
                                          ctypes.byref(record)))
        output = _take_image(handle)
        try:
            steps = json.loads(ctypes.string_at(record).decode())
        finally:
            _ffi.lib.kiln_free(record)
        if self.normalizes:
            output = self.batch([image], seed=seed, start_index=index)[0]
        return output, steps

    def _apply_into(self, view, seed, index):
        """The sample in one call, into an array of the size it is expected to have: the size
        the last call's sample had when its input had this size, else the input's. Guessed
        wrong, the call is made again with the size it reports (the same sample)."""
        input_shape = (view.height, view.width, view.channels)
        guess = self._last_shape[1] if self._last_shape is not None and self._last_shape[0] == input_shape else input_shape
        out, shape = np.empty(guess, dtype=np.uint8), (ctypes.c_int64 * 3)()
        status = _ffi.lib.kiln_augment_apply_into(self._handle, ctypes.byref(view), seed, index, _address(out), out.nbytes, shape)
        if status == _ffi.ERR_SHAPE_MISMATCH and shape[0] * shape[1] * shape[2] > 0:
            out = np.empty(tuple(shape), dtype=np.uint8)
            status = _ffi.lib.kiln_augment_apply_into(self._handle, ctypes.byref(view), seed, index, _address(out), out.nbytes, shape)
        check(status)
        self._last_shape = (input_shape, out.shape)
        return out

    def batch(self, images, seed=0, start_index=0):
        """Samples start_index, start_index + 1, ... on Kiln's threads, straight into one float32
        array [N, C, H, W] (or [N, H, W, C] for Normalize's HWC); value / 255 without Normalize.
        `images` is a list of arrays, or one uint8 array (N, H, W[, C]) of same-sized images."""
        views, keep = _views(images)
        count = len(views)
        pointer = _address(views)
        shape = (ctypes.c_int64 * 4)()
        check(_ffi.lib.kiln_augment_batch(self._handle, pointer, count, seed, start_index, None, 0, shape))
        out = _batch_memory.array(tuple(shape))
        check(_ffi.lib.kiln_augment_batch(self._handle, pointer, count, seed, start_index, _address(out), out.size, shape))
        del keep
        return out


class _BatchMemory:
    """Memory for batches, shared by every pipeline: fresh memory of a batch's size costs page
    faults about as long as the batch's own work (a new `Pipeline(spec).batch(...)` per call ran
    at half speed), so one of the last two batches' is written again once nothing else refers
    to it — a batch still held, viewed or wrapped (torch.from_numpy) is never overwritten, and a
    loop that holds the last batch while asking for the next (`x = pipeline.batch(...)`) gets
    the one before. Whether anything else refers to an owner is its reference count against one
    measured the same way when only this object did; a lock keeps two threads from taking the
    same memory."""

    def __init__(self):
        self._lock = threading.Lock()
        self._owners = []
        self._unshared = 0  # an owner's reference count when only this object refers to it

    def array(self, shape):
        size = math.prod(shape) + 16
        with self._lock:
            for owner in self._owners:
                # Not one more than twice the size: a small result (a single sample) would keep it alive.
                if size <= owner.size <= 2 * size and sys.getrefcount(owner) <= self._unshared:
                    return _aligned_view(owner, shape)
            self._owners = self._owners[-1:] + [np.empty(size, dtype=np.float32)]
            for owner in self._owners:
                unshared = sys.getrefcount(owner)
            self._unshared = unshared  # the new owner's, held by nothing else yet
            return _aligned_view(self._owners[-1], shape)


_batch_memory = _BatchMemory()


def _aligned_view(owner, shape):
    """A float32 array of `shape` in `owner` (16 floats longer) starting on a 64-byte cache line
    (numpy's own arrays start on 16 bytes): the batch's rows then line up with the lines the
    pipeline streams whole, about 10% faster. Its base, and that of any view of it, is `owner`."""
    count = math.prod(shape)
    start = (-_address(owner) % 64) // 4
    return owner[start:start + count].reshape(shape)


def _views(images):
    """`struct kiln_image_view`s as rows of an int64 array (its seven 8-byte fields): for an
    (N, H, W[, C]) array, computed at once; for a list, one row per image. Also what must stay
    alive while they are used."""
    if isinstance(images, np.ndarray):
        if images.dtype != np.uint8 or images.ndim not in (3, 4):
            raise KilnError(_ffi.ERR_INVALID_ARGUMENT, f"a batch array is uint8 (N, H, W) or (N, H, W, C), got {images.dtype} {images.shape}")
        if images.shape[0] == 0:
            raise KilnError(_ffi.ERR_INVALID_ARGUMENT, "batch: no images")
        count, height, width = images.shape[:3]
        channels, channel_stride = (images.shape[3], images.strides[3]) if images.ndim == 4 else (1, 1)
        views = np.empty((count, 7), np.int64)
        views[:, 0] = images.ctypes.data + np.arange(count, dtype=np.int64) * images.strides[0]
        views[:, 1:] = (height, width, channels, images.strides[1], images.strides[2], channel_stride)
        return views, images
    fields = []
    for image in images:  # the per-image Python work kept to the pointer, shape and strides
        if type(image) is np.ndarray and image.dtype is _UINT8 and image.ndim == 3:
            shape, strides = image.shape, image.strides
            fields += (_address(image), shape[0], shape[1], shape[2], strides[0], strides[1], strides[2])
        else:
            view, _ = _view(image)  # (H, W) images, subclasses, or the error that says what is wrong
            fields += (view.data or 0, view.height, view.width, view.channels, view.row_stride, view.pixel_stride, view.channel_stride)
    if not fields:
        raise KilnError(_ffi.ERR_INVALID_ARGUMENT, "batch: no images")
    return np.array(fields, dtype=np.int64).reshape(-1, 7), images


def _address(image):
    """The address of an array's first element: through the buffer protocol when the array
    offers a writable contiguous buffer (0.5 µs), else numpy's ctypes interface (1 µs)."""
    try:
        return ctypes.addressof(_CHAR.from_buffer(image))
    except (TypeError, ValueError, BufferError):
        return image.ctypes.data


_CHAR = ctypes.c_char


_UINT8 = np.dtype(np.uint8)


class ImageFolder:
    """A folder-per-class dataset (ROOT/<class>/<image>): `classes`, `paths`, `labels` (int64),
    and `dataset[i] -> (image, label)`."""

    def __init__(self, root):
        out = ctypes.c_void_p()
        check(_ffi.lib.kiln_image_folder_scan(os.fsencode(root), ctypes.byref(out)))
        try:
            scan = json.loads(ctypes.string_at(out).decode())
        finally:
            _ffi.lib.kiln_free(out)
        self.classes = scan["classes"]
        self.paths = scan["paths"]
        self.labels = np.array(scan["labels"], dtype=np.int64)

    def __len__(self):
        return len(self.paths)

    def __getitem__(self, index):
        return read(self.paths[index]), int(self.labels[index])


def _labels(labels, num_classes):
    labels = np.ascontiguousarray(labels, dtype=np.int64)
    if labels.ndim != 1:
        raise KilnError(_ffi.ERR_INVALID_ARGUMENT, "labels are a 1-D array of class indices")
    classes = int(labels.max()) + 1 if num_classes is None and labels.size else (num_classes or 0)
    return labels, classes


def class_weights(labels, num_classes=None):
    """scikit-learn's "balanced" weights: n_samples / (n_classes * count[c]), one per class."""
    labels, classes = _labels(labels, num_classes)
    out = np.zeros(max(classes, 1), dtype=np.float64)
    check(_ffi.lib.kiln_class_weights(labels.ctypes.data, labels.size, classes, out.ctypes.data))
    return out[:classes]


def balanced_indices(labels, count, seed=0, start=0, target=None, num_classes=None):
    """Draws start ... start + count - 1 of a seeded class-balanced stream of sample indices
    (minority classes oversampled to `target`, uniform by default)."""
    labels, classes = _labels(labels, num_classes)
    weights = None if target is None else np.ascontiguousarray(target, dtype=np.float64)
    if weights is not None and weights.size != classes:
        raise KilnError(_ffi.ERR_SHAPE_MISMATCH, f"target has {weights.size} weights for {classes} classes")
    out = np.zeros(count, dtype=np.int64)
    check(_ffi.lib.kiln_class_balanced_sample(labels.ctypes.data, labels.size, classes,
                                              None if weights is None else weights.ctypes.data, seed, start,
                                              out.ctypes.data, count))
    return out
