"""Kiln's augmentation from Python, in the same process as albumentations and OpenCV, one thread:
- the training pipeline (RandomResizedCrop 224 + HorizontalFlip + RandomBrightnessContrast +
  Normalize -> CHW float32) on a batch of 64 distinct 512² images:
  `pipeline.batch(images, seed=1, start_index=k)` (one pipeline, k advancing, as a training loop
  calls it) and `kiln.vision.Pipeline(spec).batch(images, seed=1, start_index=0)` (a new
  pipeline per call, as the issue words the acceptance check) against an albumentations Compose
  called per image and stacked;
- the binding's call overhead per image: a one-flip pipeline on 8×8 images, where the work is
  negligible, per `pipeline(image, seed, index)` call and per image of a `batch` of 64 (a list
  of arrays, and one (64, 8, 8, 3) array);
- JPEG decoding of the bundled photos: `kiln.vision.decode` against `cv2.imdecode` (both
  libjpeg-turbo; RGB out for both).
Interleaved rounds, medians and best.

Usage: benchmarks/run vision-python [--rounds 5] [--no-save]
"""
import argparse
import datetime
import os
import statistics
import sys
import time
from pathlib import Path

import recording

os.environ.setdefault("OMP_NUM_THREADS", "1")
ROOT = Path(__file__).resolve().parent.parent
os.environ.setdefault("KILN_LIBRARY", str(ROOT / ".build" / "release" / "libkiln.so"))
sys.path.insert(0, str(ROOT / "bindings" / "python"))
import cv2  # noqa: E402
import numpy as np  # noqa: E402

import kiln  # noqa: E402
import kiln.vision  # noqa: E402

sys.path.insert(0, str(ROOT / "benchmarks" / "peers"))
from augment_peers import MEAN, STD, images  # noqa: E402

cv2.setNumThreads(1)
kiln.set_num_threads(1)
PHOTOS = ROOT / "examples" / "data" / "photos"
PIPELINE = {"transforms": [{"name": "RandomResizedCrop", "size": [224, 224]}, {"name": "HorizontalFlip", "p": 0.5},
                           {"name": "RandomBrightnessContrast", "p": 0.5},
                           {"name": "Normalize", "mean": MEAN.tolist(), "std": STD.tolist(), "layout": "CHW"}]}


def timed(function, repeat):
    """Seconds per call, the best of `repeat` after one untimed call. Each call's result is held
    while the next one runs, as a training loop holds its last batch (`x = pipeline.batch(...)`)."""
    result = function()
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        result = function()
        best = min(best, time.perf_counter() - start)
    del result
    return best


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--no-save", action="store_true")
    args = parser.parse_args()
    import albumentations as A
    batch = images(512, 64)
    ours = kiln.vision.Pipeline(PIPELINE)
    compose = A.Compose([A.RandomResizedCrop(size=(224, 224)), A.HorizontalFlip(p=0.5), A.RandomBrightnessContrast(p=0.5),
                         A.Normalize(mean=MEAN, std=STD)])

    def theirs(image):  # HWC float32 -> CHW, as the harness's peer does
        return np.ascontiguousarray(compose(image=image)["image"].transpose(2, 0, 1))
    tiny = [np.ascontiguousarray(image[:8, :8]) for image in images(64, 64)]
    tiny_array = np.stack(tiny)
    flip = kiln.vision.Pipeline({"transforms": [{"name": "HorizontalFlip", "p": 1}]})
    jpegs = [(PHOTOS / name).read_bytes() for name in ("rocket.jpg", "retina.jpg")]
    read_flag = getattr(cv2, "IMREAD_COLOR_RGB", None)

    def cv2_decode(data):
        array = np.frombuffer(data, np.uint8)
        if read_flag is not None:
            return cv2.imdecode(array, read_flag)
        return cv2.cvtColor(cv2.imdecode(array, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)

    for data in jpegs:  # the same pixels, within libjpeg-turbo's IDCT choices
        assert kiln.vision.decode(data).shape == cv2_decode(data).shape
    samples = {key: [] for key in ("kiln_pipeline", "kiln_new_pipeline", "albumentations_pipeline", "call_overhead",
                                   "batch_overhead", "array_batch_overhead", "kiln_decode", "cv2_decode")}
    start = 0
    for round_index in range(args.rounds):
        cases = [
            ("kiln_pipeline", lambda: ours.batch(batch, seed=1, start_index=start), 3, len(batch)),
            ("kiln_new_pipeline", lambda: kiln.vision.Pipeline(PIPELINE).batch(batch, seed=1, start_index=0), 3, len(batch)),
            ("albumentations_pipeline", lambda: np.stack([theirs(image) for image in batch]), 3, len(batch)),
            ("call_overhead", lambda: [flip(image, seed=1, index=index) for index, image in enumerate(tiny)], 5, len(tiny)),
            ("batch_overhead", lambda: flip.batch(tiny, seed=1), 5, len(tiny)),
            ("array_batch_overhead", lambda: flip.batch(tiny_array, seed=1), 5, len(tiny)),
            ("kiln_decode", lambda: [kiln.vision.decode(data) for data in jpegs], 5, len(jpegs)),
            ("cv2_decode", lambda: [cv2_decode(data) for data in jpegs], 5, len(jpegs)),
        ]
        if round_index % 2:
            cases.reverse()
        for key, function, repeat, count in cases:
            samples[key].append(timed(function, repeat) / count)
        start += 64
        print(f"[vision-python] round {round_index + 1}/{args.rounds}", file=sys.stderr)
    median = {key: statistics.median(values) for key, values in samples.items()}
    best = {key: min(values) for key, values in samples.items()}
    sizes = [cv2_decode(data).shape for data in jpegs]
    date = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    commit = recording.commit()
    lines = [f"## `benchmarks/run vision-python` — {date}, commit {commit}", "",
             f"{os.cpu_count()} cores, one thread for Kiln, OpenCV {cv2.__version__} and albumentations {A.__version__}, all in "
             f"one Python process; {args.rounds} interleaved rounds, median (best).", "",
             "| case | Kiln | peer | peer ÷ Kiln (median) |", "|---|---|---|---|",
             f"| training pipeline, batch of 64 distinct 512² images, images/s | {1 / median['kiln_pipeline']:,.0f} "
             f"({1 / best['kiln_pipeline']:,.0f}) | albumentations {1 / median['albumentations_pipeline']:,.0f} "
             f"({1 / best['albumentations_pipeline']:,.0f}) | {median['albumentations_pipeline'] / median['kiln_pipeline']:.2f}× |",
             f"| the same, a new `kiln.vision.Pipeline(spec).batch(images, seed=1, start_index=0)` per call, images/s | "
             f"{1 / median['kiln_new_pipeline']:,.0f} ({1 / best['kiln_new_pipeline']:,.0f}) | albumentations "
             f"{1 / median['albumentations_pipeline']:,.0f} ({1 / best['albumentations_pipeline']:,.0f}) | "
             f"{median['albumentations_pipeline'] / median['kiln_new_pipeline']:.2f}× |",
             f"| JPEG decode, {' and '.join(f'{w}×{h}' for h, w, _ in sizes)}, ms per image | {median['kiln_decode'] * 1e3:.3f} "
             f"({best['kiln_decode'] * 1e3:.3f}) | cv2.imdecode {median['cv2_decode'] * 1e3:.3f} ({best['cv2_decode'] * 1e3:.3f}) | "
             f"{median['cv2_decode'] / median['kiln_decode']:.2f}× |", "",
             f"Binding overhead per image (8×8 images, one flip): `pipeline(image, seed, index)` "
             f"{median['call_overhead'] * 1e6:.1f} µs ({best['call_overhead'] * 1e6:.1f}); `pipeline.batch` of a list of 64 "
             f"arrays {median['batch_overhead'] * 1e6:.2f} µs ({best['batch_overhead'] * 1e6:.2f}) per image, of one (64, 8, 8, 3) "
             f"array {median['array_batch_overhead'] * 1e6:.2f} µs ({best['array_batch_overhead'] * 1e6:.2f}) per image "
             "(the Swift-side work of the flip included)."]
    report = "\n".join(lines) + "\n"
    print(report)
    if not args.no_save:
        recording.save(f"vision-python-{date[:10]}", report,
                       {"date": date, "commit": commit, "samples": samples, "median": median, "best": best})


if __name__ == "__main__":
    main()
