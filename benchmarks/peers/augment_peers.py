"""The augmentation peers, each op on 16 distinct uint8 RGB images of size² per run, and the
training pipeline (RandomResizedCrop 224 + HorizontalFlip + RandomBrightnessContrast +
Normalize -> CHW float32) on 64 distinct 512² images: the cases of `kiln bench augment`, with
albumentations, raw OpenCV or Pillow doing the work. One JSON line per case."""
import argparse
import json
import os
import random
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
import cv2  # noqa: E402
import numpy as np  # noqa: E402

cv2.setNumThreads(1)
PHOTOS = Path(__file__).resolve().parents[2] / "examples" / "data" / "photos"
MEAN = np.array([0.485, 0.456, 0.406], np.float32)
STD = np.array([0.229, 0.224, 0.225], np.float32)


def images(size, count):
    photos = [cv2.cvtColor(cv2.imread(str(PHOTOS / name)), cv2.COLOR_BGR2RGB)
              for name in ["astronaut.png", "chelsea.png", "coffee.png", "rocket.jpg", "retina.jpg"]]
    out = []
    for index in range(count):
        photo = photos[index % len(photos)]
        h, w = photo.shape[:2]
        side = min(h, w) * (8 + index % 3) // 10
        x, y = (w - side) * (index % 5) // 4, (h - side) * (index % 7) // 6
        out.append(np.ascontiguousarray(cv2.resize(photo[y:y + side, x:x + side], (size, size), interpolation=cv2.INTER_AREA)))
    return out


def rrc_box(h, w, rng):
    for _ in range(10):
        area = h * w * rng.uniform(0.08, 1.0)
        ratio = np.exp(rng.uniform(np.log(3 / 4), np.log(4 / 3)))
        cw, ch = int(round(np.sqrt(area * ratio))), int(round(np.sqrt(area / ratio)))
        if 0 < cw <= w and 0 < ch <= h:
            return rng.randint(0, w - cw), rng.randint(0, h - ch), cw, ch
    return 0, 0, w, h


def albumentations_ops(size):
    import albumentations as A
    ops = {
        "HorizontalFlip": A.HorizontalFlip(p=1), "VerticalFlip": A.VerticalFlip(p=1),
        "Rotate": A.Rotate(limit=30, interpolation=cv2.INTER_LINEAR, border_mode=cv2.BORDER_CONSTANT, p=1),
        "Affine": A.Affine(scale=(0.9, 1.1), rotate=(-15, 15), shear=(-10, 10), translate_percent=(-0.05, 0.05), p=1),
        "RandomResizedCrop": A.RandomResizedCrop(size=(224, 224), p=1), "Resize": A.Resize(224, 224),
        "CenterCrop": A.CenterCrop(200, 200), "RandomCrop": A.RandomCrop(200, 200),
        "PadIfNeeded": A.PadIfNeeded(600, 600, border_mode=cv2.BORDER_REFLECT_101),
        "RandomBrightnessContrast": A.RandomBrightnessContrast(p=1), "HueSaturationValue": A.HueSaturationValue(p=1),
        "ToGray": A.ToGray(p=1), "GaussNoise": A.GaussNoise(std_range=(0.02, 0.1), p=1),
        "GaussianBlur": A.GaussianBlur(sigma_limit=(0.5, 1.5), p=1), "CoarseDropout": A.CoarseDropout(num_holes_range=(1, 4), p=1),
        "Normalize": A.Compose([A.Normalize(mean=MEAN, std=STD), A.ToTensorV2()]) if hasattr(A, "ToTensorV2") else A.Normalize(mean=MEAN, std=STD),
    }
    wrapped = {name: (lambda op: lambda image: op(image=image)["image"])(op) for name, op in ops.items()}
    pipeline = A.Compose([A.RandomResizedCrop(size=(224, 224)), A.HorizontalFlip(p=0.5), A.RandomBrightnessContrast(p=0.5),
                          A.Normalize(mean=MEAN, std=STD)])
    wrapped["pipeline"] = lambda image: np.ascontiguousarray(pipeline(image=image)["image"].transpose(2, 0, 1))
    return wrapped


def opencv_ops(size):
    rng = random.Random(1)

    def rotate(image, angle=None, scale=1.0, shear=0.0):
        h, w = image.shape[:2]
        matrix = cv2.getRotationMatrix2D(((w - 1) / 2, (h - 1) / 2), rng.uniform(-30, 30) if angle is None else angle, scale)
        if shear:
            matrix[0, 1] += np.tan(np.radians(shear))
        return cv2.warpAffine(image, matrix, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)

    def rrc(image):
        x, y, w, h = rrc_box(*image.shape[:2], rng)
        return cv2.resize(image[y:y + h, x:x + w], (224, 224), interpolation=cv2.INTER_LINEAR)

    def brightness_contrast(image):
        alpha, beta = 1 + rng.uniform(-0.2, 0.2), rng.uniform(-0.2, 0.2) * 255
        return cv2.LUT(image, np.clip(np.arange(256) * alpha + beta, 0, 255).astype(np.uint8))

    def hsv(image):
        hsv = cv2.cvtColor(image, cv2.COLOR_RGB2HSV)
        h, s, v = cv2.split(hsv)
        h = cv2.LUT(h, ((np.arange(256) + rng.randint(-20, 20)) % 180).astype(np.uint8))
        s = cv2.LUT(s, np.clip(np.arange(256) + rng.randint(-30, 30), 0, 255).astype(np.uint8))
        v = cv2.LUT(v, np.clip(np.arange(256) + rng.randint(-20, 20), 0, 255).astype(np.uint8))
        return cv2.cvtColor(cv2.merge([h, s, v]), cv2.COLOR_HSV2RGB)

    def noise(image):
        gauss = np.empty(image.shape, np.float32)
        cv2.randn(gauss, 0, rng.uniform(0.02, 0.1) * 255)
        return cv2.add(image, gauss, dtype=cv2.CV_8U)

    def dropout(image):
        out = image.copy()
        h, w = image.shape[:2]
        for _ in range(rng.randint(1, 4)):
            hh, ww = int(h * rng.uniform(0.1, 0.2)), int(w * rng.uniform(0.1, 0.2))
            y, x = rng.randint(0, h - hh), rng.randint(0, w - ww)
            out[y:y + hh, x:x + ww] = 0
        return out

    def normalize(image):
        return cv2.dnn.blobFromImage(image, 1 / 255.0)[0] if False else \
            np.ascontiguousarray(((image.astype(np.float32) * (1 / 255.0) - MEAN) / STD).transpose(2, 0, 1))

    def pipeline(image):
        out = rrc(image)
        if rng.random() < 0.5:
            out = cv2.flip(out, 1)
        if rng.random() < 0.5:
            out = brightness_contrast(out)
        return normalize(out)

    return {
        "HorizontalFlip": lambda image: cv2.flip(image, 1), "VerticalFlip": lambda image: cv2.flip(image, 0),
        "Rotate": rotate, "Affine": lambda image: rotate(image, rng.uniform(-15, 15), rng.uniform(0.9, 1.1), rng.uniform(-10, 10)),
        "RandomResizedCrop": rrc, "Resize": lambda image: cv2.resize(image, (224, 224), interpolation=cv2.INTER_LINEAR),
        "CenterCrop": lambda image: image[(image.shape[0] - 200) // 2:][:200, (image.shape[1] - 200) // 2:][:, :200].copy(),
        "RandomCrop": lambda image: image[rng.randint(0, image.shape[0] - 200):][:200, rng.randint(0, image.shape[1] - 200):][:, :200].copy(),
        "PadIfNeeded": lambda image: cv2.copyMakeBorder(image, *[(600 - image.shape[0]) // 2] * 2, *[(600 - image.shape[1]) // 2] * 2,
                                                        cv2.BORDER_REFLECT_101),
        "RandomBrightnessContrast": brightness_contrast, "HueSaturationValue": hsv,
        "ToGray": lambda image: cv2.cvtColor(cv2.cvtColor(image, cv2.COLOR_RGB2GRAY), cv2.COLOR_GRAY2RGB),
        "GaussNoise": noise, "GaussianBlur": lambda image: cv2.GaussianBlur(image, (0, 0), rng.uniform(0.5, 1.5)),
        "CoarseDropout": dropout, "Normalize": normalize, "pipeline": pipeline,
    }


def pillow_ops(size):
    from PIL import Image, ImageEnhance, ImageFilter
    rng = random.Random(1)

    def wrap(function):
        return lambda image: np.asarray(function(Image.fromarray(image)))

    def rrc(image):
        x, y, w, h = rrc_box(image.height, image.width, rng)
        return image.resized_crop if False else image.crop((x, y, x + w, y + h)).resize((224, 224), Image.BILINEAR)

    def brightness_contrast(image):
        image = ImageEnhance.Brightness(image).enhance(1 + rng.uniform(-0.2, 0.2))
        return ImageEnhance.Contrast(image).enhance(1 + rng.uniform(-0.2, 0.2))

    def pipeline(image):
        out = rrc(Image.fromarray(image))
        if rng.random() < 0.5:
            out = out.transpose(Image.FLIP_LEFT_RIGHT)
        if rng.random() < 0.5:
            out = brightness_contrast(out)
        return np.ascontiguousarray(((np.asarray(out, np.float32) / 255 - MEAN) / STD).transpose(2, 0, 1))

    return {
        "HorizontalFlip": wrap(lambda image: image.transpose(Image.FLIP_LEFT_RIGHT)),
        "VerticalFlip": wrap(lambda image: image.transpose(Image.FLIP_TOP_BOTTOM)),
        "Rotate": wrap(lambda image: image.rotate(rng.uniform(-30, 30), Image.BILINEAR)),
        "RandomResizedCrop": wrap(rrc), "Resize": wrap(lambda image: image.resize((224, 224), Image.BILINEAR)),
        "CenterCrop": wrap(lambda image: image.crop(((image.width - 200) // 2, (image.height - 200) // 2,
                                                     (image.width - 200) // 2 + 200, (image.height - 200) // 2 + 200))),
        "RandomBrightnessContrast": wrap(brightness_contrast),
        "ToGray": wrap(lambda image: image.convert("L").convert("RGB")),
        "GaussianBlur": wrap(lambda image: image.filter(ImageFilter.GaussianBlur(rng.uniform(0.5, 1.5)))),
        "pipeline": pipeline,
    }


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--engine", choices=["albumentations", "opencv", "pillow"], required=True)
    parser.add_argument("--size", type=int, default=224)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--cases", help="comma-separated case names (default all)")
    args = parser.parse_args()
    ops = {"albumentations": albumentations_ops, "opencv": opencv_ops, "pillow": pillow_ops}[args.engine](args.size)
    inputs, small, batch = images(args.size, 16), images(256, 16), images(512, 64)
    wanted = set(args.cases.split(",")) if args.cases else None
    for name, function in ops.items():
        if (name == "Resize" and args.size != 224) or (wanted is not None and name not in wanted):
            continue
        sources = batch if name == "pipeline" else small if name == "Resize" else inputs
        samples = []
        for run in range(args.warmup + args.runs):
            start = time.perf_counter()
            if name == "pipeline":
                out = np.empty((len(sources), 3, 224, 224), np.float32)
                for index, image in enumerate(sources):
                    out[index] = function(image)
            else:
                for image in sources:
                    function(image)
            elapsed = (time.perf_counter() - start) * 1000
            if run >= args.warmup:
                samples.append(elapsed)
        best, median = min(samples), float(np.median(samples))
        print(json.dumps({"suite": "augment", "name": name, "size": 512 if name == "pipeline" else args.size, "best_ms": best, "median_ms": median, "runs": len(samples),
                          "images_per_s": len(sources) / best * 1000, "median_images_per_s": len(sources) / median * 1000,
                          "kernel": args.engine, "samples_ms": samples}), flush=True)


if __name__ == "__main__":
    main()
