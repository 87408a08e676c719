"""kiln.vision from Python: codecs against OpenCV, batches equal single samples whatever the
threads or splits, views read in place, errors as KilnError."""
import threading
from pathlib import Path

import cv2
import numpy as np
import pytest

import kiln

PHOTOS = Path(__file__).resolve().parents[3] / "examples" / "data" / "photos"
TRAINING = {"transforms": [
    {"name": "RandomResizedCrop", "size": [224, 224]},
    {"name": "HorizontalFlip", "p": 0.5},
    {"name": "RandomBrightnessContrast", "p": 0.5},
    {"name": "Normalize", "mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225], "layout": "CHW"},
]}


@pytest.fixture(scope="module")
def photos():
    return [kiln.vision.read(PHOTOS / name) for name in ["astronaut.png", "chelsea.png", "coffee.png", "rocket.jpg"]]


def test_decode_matches_opencv():
    for name in ["rocket.jpg", "retina.jpg", "chelsea.png"]:
        ours = kiln.vision.read(PHOTOS / name)
        np.testing.assert_array_equal(ours, cv2.cvtColor(cv2.imread(str(PHOTOS / name)), cv2.COLOR_BGR2RGB))


def test_decode_of_an_exif_turned_jpeg_is_upright_as_opencv_reads_it(tmp_path):
    # Orientation 6 ("rotate 90 clockwise to view"): decoded, turned, then copied into the array.
    ok, encoded = cv2.imencode(".jpg", cv2.imread(str(PHOTOS / "rocket.jpg")))
    data = encoded.tobytes()
    tiff = b"MM\x00\x2a\x00\x00\x00\x08\x00\x01" + b"\x01\x12\x00\x03\x00\x00\x00\x01\x00\x06\x00\x00" + b"\x00\x00\x00\x00"
    app1 = b"\xff\xe1" + (len(tiff) + 8).to_bytes(2, "big") + b"Exif\x00\x00" + tiff
    turned = data[:2] + app1 + data[2:]
    (tmp_path / "turned.jpg").write_bytes(turned)
    ours = kiln.vision.decode(turned)
    assert ours.shape == (640, 427, 3)
    np.testing.assert_array_equal(ours, cv2.cvtColor(cv2.imread(str(tmp_path / "turned.jpg")), cv2.COLOR_BGR2RGB))


def test_encode_round_trips(photos):
    for image in photos:
        np.testing.assert_array_equal(kiln.vision.decode(kiln.vision.encode(image)), image)
        jpeg = kiln.vision.decode(kiln.vision.encode(image, "jpeg", quality=90))
        assert jpeg.shape == image.shape and np.abs(jpeg.astype(int) - image).mean() < 4
    gray = photos[0][:, :, 0]
    assert kiln.vision.decode(kiln.vision.encode(gray)).shape == gray.shape + (1,)


def test_batches_equal_single_samples_for_any_threads_and_splits(photos):
    pipeline = kiln.vision.Pipeline(TRAINING)
    images = photos * 4  # 16 images of four sizes
    previous = kiln.get_num_threads()
    try:
        kiln.set_num_threads(1)
        one_thread = pipeline.batch(images, seed=11, start_index=40)
        kiln.set_num_threads(2)
        two_threads = pipeline.batch(images, seed=11, start_index=40)
    finally:
        kiln.set_num_threads(previous)
    assert one_thread.shape == (16, 3, 224, 224) and one_thread.dtype == np.float32
    np.testing.assert_array_equal(one_thread, two_threads)
    split = np.concatenate([pipeline.batch(images[:7], seed=11, start_index=40), pipeline.batch(images[7:], seed=11, start_index=47)])
    np.testing.assert_array_equal(split, one_thread)
    np.testing.assert_array_equal(pipeline(images[5], seed=11, index=45), one_thread[5])
    assert not np.array_equal(pipeline.batch(images, seed=12, start_index=40), one_thread)


def test_normalize_is_the_documented_formula(photos):
    image = photos[1]
    out = kiln.vision.Pipeline({"transforms": [{"name": "Normalize", "mean": [0.5, 0.4, 0.3], "std": [0.2, 0.25, 0.3]}]})(image)
    expected = (image / 255.0 - [0.5, 0.4, 0.3]) / [0.2, 0.25, 0.3]
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-5)  # HWC by default
    plain = kiln.vision.Pipeline({"transforms": [{"name": "HorizontalFlip", "p": 0}]}).batch([image])
    np.testing.assert_allclose(plain[0], image.transpose(2, 0, 1) / 255.0, rtol=1e-6)


def test_gaussian_blur_is_opencvs_byte_for_byte(photos):
    # OpenCV's fixed-point arithmetic for 8-bit images (its kernel in 8-bit fractions, exact sums,
    # the same rounding): equal bytes, not merely close ones, for small and large sigmas.
    for image in photos:
        for sigma in [0.3, 0.5, 0.8, 1.0, 1.3, 1.5, 2.2, 3.7]:
            pipeline = kiln.vision.Pipeline({"transforms": [{"name": "GaussianBlur", "sigma_limit": [sigma, sigma], "p": 1}]})
            np.testing.assert_array_equal(pipeline(image, seed=1, index=0), cv2.GaussianBlur(image, (0, 0), sigma))


def test_views_with_negative_strides_are_read_in_place(photos):
    image = photos[0]
    identity = kiln.vision.Pipeline({"transforms": [{"name": "VerticalFlip", "p": 0}]})
    for view in [image[::-1, ::-1], image[:, ::-1], image[10:300:3, 5::2], image[:, :, ::-1]]:
        np.testing.assert_array_equal(identity(view), view)


def test_batches_read_row_strided_views_in_place_like_copies(photos):
    """Rows reversed or a window of a larger image: the one-pass batch reads them where they are
    and gets what it gets from contiguous copies; other strides are copied first, same values."""
    pipeline = kiln.vision.Pipeline(TRAINING)
    image = photos[0]
    read_only = image.copy()
    read_only.flags.writeable = False  # no writable buffer: its address comes another way
    for views in ([image[::-1], image[20:400, 30:300], image[::2]], [image[::-1], image[:, ::-1]], [read_only, image]):
        got = pipeline.batch(views, seed=5, start_index=3)
        expected = pipeline.batch([np.ascontiguousarray(view) for view in views], seed=5, start_index=3)
        np.testing.assert_array_equal(got, expected)


def test_a_batch_can_be_one_array_of_same_sized_images(photos):
    pipeline = kiln.vision.Pipeline(TRAINING)
    square = [np.ascontiguousarray(photo[:256, :256]) for photo in photos]
    stacked = np.stack(square)
    np.testing.assert_array_equal(pipeline.batch(stacked, seed=2, start_index=9), pipeline.batch(square, seed=2, start_index=9))
    np.testing.assert_array_equal(pipeline.batch(stacked[::-1], seed=2), pipeline.batch(square[::-1], seed=2))
    grey = np.stack([image[:, :, 0] for image in square])
    flip = kiln.vision.Pipeline({"transforms": [{"name": "HorizontalFlip", "p": 1}]})
    np.testing.assert_allclose(flip.batch(grey)[:, 0], grey[:, :, ::-1] / 255.0, rtol=1e-6)
    for bad in (stacked.astype(np.float32), stacked[0, :, :, 0], stacked[:0]):
        with pytest.raises(kiln.KilnError):
            pipeline.batch(bad)


def test_replay_returns_each_transforms_parameters(photos):
    pipeline = kiln.vision.Pipeline({"transforms": [{"name": "Rotate", "limit": 20, "p": 1}, {"name": "Resize", "height": 64, "width": 64}]})
    image, steps = pipeline(photos[0], seed=3, index=2, replay=True)
    assert image.shape == (64, 64, 3)
    assert [step["name"] for step in steps] == ["Rotate", "Resize"]
    assert -20 <= steps[0]["parameters"]["angle"] <= 20
    again, same = pipeline(photos[0], seed=3, index=2, replay=True)
    assert same == steps and np.array_equal(again, image)


def test_single_calls_give_the_replayed_sample_whatever_size_was_guessed(photos):
    """A single call writes into an array of the size it guesses (the last sample's for the same
    input size, else the input's) and calls again when the sample has another: the same bytes."""
    pipeline = kiln.vision.Pipeline({"transforms": [{"name": "RandomCrop", "height": 50, "width": 70},
                                                    {"name": "PadIfNeeded", "min_height": 64, "min_width": 64}]})
    for image in [photos[0], photos[1][:200], photos[0], photos[2][:, :, 0], photos[0][::-1]]:
        for index in range(3):
            got = pipeline(image, seed=4, index=index)
            expected, _ = pipeline(image, seed=4, index=index, replay=True)
            assert got.shape == expected.shape == (64, 70, image.shape[2] if image.ndim == 3 else 1)
            np.testing.assert_array_equal(got, expected)


def test_bad_input_raises_kiln_error(photos):
    with pytest.raises(kiln.KilnError, match="unknown field 'limt'"):
        kiln.vision.Pipeline({"transforms": [{"name": "Rotate", "limt": 30}]})
    with pytest.raises(kiln.KilnError, match="corrupt or truncated"):
        kiln.vision.decode((PHOTOS / "rocket.jpg").read_bytes()[:20000])
    with pytest.raises(kiln.KilnError, match="uint8"):
        kiln.vision.Pipeline(TRAINING)(photos[0].astype(np.float32))
    with pytest.raises(kiln.KilnError, match="1, 3 or 4 channels"):
        kiln.vision.Pipeline(TRAINING)(np.zeros((8, 8, 2), np.uint8))
    with pytest.raises(kiln.KilnError, match="same size|Resize or a crop"):
        kiln.vision.Pipeline({"transforms": [{"name": "HorizontalFlip"}]}).batch(photos[:2])
    with pytest.raises(kiln.KilnError, match="larger than the image"):
        kiln.vision.Pipeline({"transforms": [{"name": "RandomCrop", "height": 1000, "width": 10}]})(photos[0])
    with pytest.raises(kiln.KilnError, match="sigma_limit.*must be in"):
        kiln.vision.Pipeline({"transforms": [{"name": "GaussianBlur", "sigma_limit": [1, 5000]}]})


FASHION = PHOTOS.parent / "fashion_mnist_1000"


def test_image_folder_reads_the_folder_per_class_layout():
    dataset = kiln.vision.ImageFolder(FASHION)
    assert dataset.classes == sorted(path.name for path in FASHION.iterdir() if path.is_dir())
    assert len(dataset) == 1000 and np.bincount(dataset.labels).tolist() == [100] * 10
    image, label = dataset[123]
    assert image.shape == (28, 28, 1) and dataset.classes[label] == Path(dataset.paths[123]).parent.name
    np.testing.assert_array_equal(image[:, :, 0], cv2.imread(dataset.paths[123], cv2.IMREAD_GRAYSCALE))
    with pytest.raises(kiln.KilnError, match="no class folders"):
        kiln.vision.ImageFolder(PHOTOS)


def test_class_weights_match_scikit_learn():
    from sklearn.utils.class_weight import compute_class_weight
    labels = np.array([0] * 50 + [1] * 5 + [2] * 20 + [3] * 1)
    np.testing.assert_allclose(kiln.vision.class_weights(labels),
                               compute_class_weight("balanced", classes=np.arange(4), y=labels), rtol=1e-12)


def test_balanced_sampling_oversamples_minorities_reproducibly():
    labels = np.array([0] * 900 + [1] * 90 + [2] * 10)
    indices = kiln.vision.balanced_indices(labels, 30000, seed=4)
    shares = np.bincount(labels[indices], minlength=3) / indices.size
    np.testing.assert_allclose(shares, [1 / 3] * 3, atol=0.015)
    assert set(indices[labels[indices] == 2]) == set(range(990, 1000))  # every minority sample is used
    parts = np.concatenate([kiln.vision.balanced_indices(labels, 1000, seed=4, start=0),
                            kiln.vision.balanced_indices(labels, 2000, seed=4, start=1000)])
    np.testing.assert_array_equal(parts, indices[:3000])
    skewed = kiln.vision.balanced_indices(labels, 20000, seed=1, target=[0.5, 0.25, 0.25])
    np.testing.assert_allclose(np.bincount(labels[skewed]) / skewed.size, [0.5, 0.25, 0.25], atol=0.015)
    with pytest.raises(kiln.KilnError):
        kiln.vision.balanced_indices(labels, 10, target=[1, 1])


def test_a_batch_still_referred_to_is_never_overwritten(photos):
    """`batch` writes the previous array again only once nothing else refers to it."""
    pipeline = kiln.vision.Pipeline({"transforms": [{"name": "RandomResizedCrop", "size": [32, 32]}, {"name": "Normalize"}]})
    images = [np.ascontiguousarray(photo[:64, :64]) for photo in photos[:3]]
    first = pipeline.batch(images, seed=1)
    kept = first.copy()
    view = pipeline.batch(images, seed=2)[1:]  # a view keeps its batch alive
    second = pipeline.batch(images, seed=3)
    assert not np.shares_memory(first, second) and not np.shares_memory(view, second)
    np.testing.assert_array_equal(first, kept)
    np.testing.assert_array_equal(view, pipeline.batch(images, seed=2)[1:])
    expected = second.copy()
    del second, view
    third = pipeline.batch(images, seed=3)
    address = third.ctypes.data
    del third
    again = pipeline.batch(images, seed=3)  # nothing held the last one: its memory is reused
    assert again.ctypes.data == address
    np.testing.assert_array_equal(again, expected)


def test_pipelines_share_batch_memory(photos):
    """A new `Pipeline(spec).batch(...)` per call (as a benchmark may time it) writes the memory
    of the last batch nobody holds, not fresh memory; two threads never get the same memory."""
    spec = {"transforms": [{"name": "RandomResizedCrop", "size": [32, 32]}, {"name": "Normalize"}]}
    images = [np.ascontiguousarray(photo[:64, :64]) for photo in photos[:3]]
    expected = kiln.vision.Pipeline(spec).batch(images, seed=1).copy()
    first = kiln.vision.Pipeline(spec).batch(images, seed=1)
    address = first.ctypes.data
    del first
    again = kiln.vision.Pipeline(spec).batch(images, seed=1)
    assert again.ctypes.data == address
    np.testing.assert_array_equal(again, expected)
    size = again.nbytes
    del again
    # A single sample does not take (and keep alive) a batch's memory more than twice its size.
    single = kiln.vision.Pipeline(spec)(images[0], seed=1)
    assert not address <= single.ctypes.data < address + size
    del single
    results = [None] * 8

    def run(slot):
        results[slot] = kiln.vision.Pipeline(spec).batch(images, seed=1)

    threads = [threading.Thread(target=run, args=(slot,)) for slot in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for index, result in enumerate(results):
        np.testing.assert_array_equal(result, expected)
        assert not any(np.shares_memory(result, other) for other in results[index + 1:])


def test_a_loop_holding_the_last_batch_writes_the_one_before(photos):
    """`x = pipeline.batch(...)` in a loop: the last batch is still held during the call, so the
    one before it (released when `x` was bound again) is written, not fresh memory."""
    pipeline = kiln.vision.Pipeline({"transforms": [{"name": "RandomResizedCrop", "size": [32, 32]}, {"name": "Normalize"}]})
    images = [np.ascontiguousarray(photo[:64, :64]) for photo in photos[:3]]
    batch = pipeline.batch(images, seed=1, start_index=0)
    first, expected = batch.ctypes.data, batch.copy()
    batch = pipeline.batch(images, seed=1, start_index=3)
    assert batch.ctypes.data != first
    held = batch
    batch = pipeline.batch(images, seed=1, start_index=0)
    assert batch.ctypes.data == first and not np.shares_memory(batch, held)
    np.testing.assert_array_equal(batch, expected)
    torch_like = batch.view()  # a view (as torch.from_numpy keeps) keeps its memory from being written
    del batch, held
    batch = pipeline.batch(images, seed=1, start_index=6)
    assert not np.shares_memory(batch, torch_like)
    np.testing.assert_array_equal(torch_like, expected)
