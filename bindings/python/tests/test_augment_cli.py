"""`kiln augment` and `kiln image info` against OpenCV on the bundled photos: with fixed
parameters the geometric ops must agree with cv2 within one grey level on at least 99.9% of
pixels; codecs decode as cv2 does; bad input is one readable error line."""
import json
import os
import subprocess
from pathlib import Path

import cv2
import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[3]
CLI = os.environ.get("KILN_CLI", str(ROOT / ".build" / "debug" / "kiln-cli"))
PHOTOS = ROOT / "examples" / "data" / "photos"
NAMES = ["astronaut.png", "rocket.jpg", "chelsea.png"]


def rgb(path):
    return cv2.cvtColor(cv2.imread(str(path), cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)


def augment(tmp_path, transforms, name, seed=0, copies=1, extra=()):
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps({"transforms": transforms}))
    out = tmp_path / "out"
    subprocess.run([CLI, "augment", "--pipeline", spec, "--seed", str(seed), "--copies", str(copies), "--output-dir", out,
                    "--format", "png", *extra, PHOTOS / name], check=True, capture_output=True)
    stem = name.rsplit(".", 1)[0]
    return [rgb(out / f"{stem}_{copy}.png") for copy in range(copies)]


def assert_close(ours, reference, fraction=0.999):
    assert ours.shape == reference.shape
    difference = np.abs(ours.astype(int) - reference.astype(int))
    assert np.mean(difference <= 1) >= fraction, f"within 1: {np.mean(difference <= 1):.5f}, max {difference.max()}"


CENTER = lambda image: ((image.shape[1] - 1) / 2, (image.shape[0] - 1) / 2)

GEOMETRIC = [
    ({"name": "Resize", "height": 224, "width": 224},
     lambda s: cv2.resize(s, (224, 224), interpolation=cv2.INTER_LINEAR)),
    ({"name": "Resize", "height": 700, "width": 900},
     lambda s: cv2.resize(s, (900, 700), interpolation=cv2.INTER_LINEAR)),
    ({"name": "Resize", "height": 224, "width": 224, "interpolation": "nearest"},
     lambda s: cv2.resize(s, (224, 224), interpolation=cv2.INTER_NEAREST)),
    ({"name": "Resize", "height": 100, "width": 150, "interpolation": "area"},
     lambda s: cv2.resize(s, (150, 100), interpolation=cv2.INTER_AREA)),
    ({"name": "Rotate", "limit": [30, 30], "p": 1},
     lambda s: cv2.warpAffine(s, cv2.getRotationMatrix2D(CENTER(s), 30, 1), (s.shape[1], s.shape[0]), flags=cv2.INTER_LINEAR,
                              borderMode=cv2.BORDER_CONSTANT, borderValue=0)),
    ({"name": "Rotate", "limit": [-17, -17], "p": 1, "border_mode": "reflect_101"},
     lambda s: cv2.warpAffine(s, cv2.getRotationMatrix2D(CENTER(s), -17, 1), (s.shape[1], s.shape[0]), flags=cv2.INTER_LINEAR,
                              borderMode=cv2.BORDER_REFLECT_101)),
    ({"name": "Rotate", "limit": [12, 12], "p": 1, "border_mode": "reflect", "interpolation": "nearest"},
     lambda s: cv2.warpAffine(s, cv2.getRotationMatrix2D(CENTER(s), 12, 1), (s.shape[1], s.shape[0]), flags=cv2.INTER_NEAREST,
                              borderMode=cv2.BORDER_REFLECT)),
    ({"name": "Rotate", "limit": [-40, -40], "p": 1, "border_mode": "replicate", "fill": 0},
     lambda s: cv2.warpAffine(s, cv2.getRotationMatrix2D(CENTER(s), -40, 1), (s.shape[1], s.shape[0]), flags=cv2.INTER_LINEAR,
                              borderMode=cv2.BORDER_REPLICATE)),
    ({"name": "HorizontalFlip", "p": 1}, lambda s: cv2.flip(s, 1)),
    ({"name": "VerticalFlip", "p": 1}, lambda s: cv2.flip(s, 0)),
    ({"name": "CenterCrop", "height": 200, "width": 150},
     lambda s: s[(s.shape[0] - 200) // 2:(s.shape[0] - 200) // 2 + 200, (s.shape[1] - 150) // 2:(s.shape[1] - 150) // 2 + 150]),
    ({"name": "PadIfNeeded", "min_height": 900, "min_width": 901, "border_mode": "reflect_101"},
     lambda s: cv2.copyMakeBorder(s, (900 - s.shape[0]) // 2, 900 - s.shape[0] - (900 - s.shape[0]) // 2,
                                  (901 - s.shape[1]) // 2, 901 - s.shape[1] - (901 - s.shape[1]) // 2, cv2.BORDER_REFLECT_101)),
    ({"name": "GaussianBlur", "sigma_limit": [1.3, 1.3], "p": 1}, lambda s: cv2.GaussianBlur(s, (0, 0), 1.3)),
    ({"name": "ToGray", "p": 1}, lambda s: np.dstack([cv2.cvtColor(s, cv2.COLOR_RGB2GRAY)] * 3)),
]


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("transform, reference", GEOMETRIC, ids=[f"{t['name']}-{i}" for i, (t, _) in enumerate(GEOMETRIC)])
def test_fixed_parameters_match_opencv(tmp_path, name, transform, reference):
    (ours,) = augment(tmp_path, [transform], name)
    assert_close(ours, reference(rgb(PHOTOS / name)))


def test_affine_matches_warp_affine_with_the_same_matrix(tmp_path):
    source = rgb(PHOTOS / "chelsea.png")
    spec = {"name": "Affine", "scale": 1.2, "rotate": [10, 10], "translate_percent": [0.05, 0.05], "shear": [8, 8], "p": 1}
    (ours,) = augment(tmp_path, [spec], "chelsea.png")
    h, w = source.shape[:2]
    cx, cy = (w - 1) / 2, (h - 1) / 2
    a = np.radians(10)
    rotation = np.array([[np.cos(a), np.sin(a), 0], [-np.sin(a), np.cos(a), 0], [0, 0, 1]])
    shear = np.array([[1, np.tan(np.radians(8)), 0], [0, 1, 0], [0, 0, 1]])
    scale = np.diag([1.2, 1.2, 1])
    matrix = np.array([[1, 0, cx + 0.05 * w], [0, 1, cy + 0.05 * h], [0, 0, 1]]) @ rotation @ shear @ scale @ \
        np.array([[1, 0, -cx], [0, 1, -cy], [0, 0, 1]])
    reference = cv2.warpAffine(source, matrix[:2], (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    assert_close(ours, reference)


def test_replayed_random_resized_crop_equals_crop_then_cv2_resize(tmp_path):
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps({"transforms": [{"name": "RandomResizedCrop", "size": [224, 224]}]}))
    subprocess.run([CLI, "augment", "--pipeline", spec, "--seed", "7", "--copies", "4", "--output-dir", tmp_path / "out",
                    "--replay", tmp_path / "replay.json", PHOTOS / "astronaut.png"], check=True, capture_output=True)
    source = rgb(PHOTOS / "astronaut.png")
    for sample in json.loads((tmp_path / "replay.json").read_text())["samples"]:
        p = sample["transforms"][0]["parameters"]
        x, y, w, h = (int(p[key]) for key in ("x", "y", "width", "height"))
        assert 0.08 * 512 * 512 * 0.99 <= w * h <= 512 * 512 and 0.74 <= w / h <= 1.34
        reference = cv2.resize(source[y:y + h, x:x + w], (224, 224), interpolation=cv2.INTER_LINEAR)
        assert_close(rgb(sample["output"]), reference)


def test_colour_ops_follow_their_formulas(tmp_path):
    source = rgb(PHOTOS / "coffee.png").astype(float)
    (ours,) = augment(tmp_path, [{"name": "RandomBrightnessContrast", "brightness_limit": [0.1, 0.1],
                                  "contrast_limit": [-0.3, -0.3], "p": 1}], "coffee.png")
    np.testing.assert_array_equal(ours, np.clip(np.round(source * 0.7 + 0.1 * 255), 0, 255).astype(np.uint8))
    (shifted,) = augment(tmp_path, [{"name": "HueSaturationValue", "hue_shift_limit": [10, 10], "sat_shift_limit": [20, 20],
                                     "val_shift_limit": [-15, -15], "p": 1}], "coffee.png")
    hsv = cv2.cvtColor(source.astype(np.uint8), cv2.COLOR_RGB2HSV).astype(int)
    hsv[..., 0] = (hsv[..., 0] + 10) % 180
    hsv[..., 1] = np.clip(hsv[..., 1] + 20, 0, 255)
    hsv[..., 2] = np.clip(hsv[..., 2] - 15, 0, 255)
    assert_close(shifted, cv2.cvtColor(hsv.astype(np.uint8), cv2.COLOR_HSV2RGB), fraction=0.99)


def test_same_seed_same_bytes_and_the_example_pipeline(tmp_path):
    example = [
        {"name": "Rotate", "limit": [30, 30], "interpolation": "bilinear", "border_mode": "constant", "fill": 0, "p": 1.0},
        {"name": "Resize", "height": 224, "width": 224, "interpolation": "bilinear"},
        {"name": "HorizontalFlip", "p": 0.5},
        {"name": "OneOf", "p": 0.8, "transforms": [{"name": "GaussianBlur", "sigma_limit": [0.5, 1.5]},
                                                   {"name": "GaussNoise", "std_range": [0.02, 0.1]}]},
        {"name": "Normalize", "mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225], "layout": "CHW"},
    ]
    first = augment(tmp_path / "a", example, "rocket.jpg", seed=5, copies=3) if (tmp_path / "a").mkdir() is None else None
    second = augment(tmp_path / "b", example, "rocket.jpg", seed=5, copies=3) if (tmp_path / "b").mkdir() is None else None
    other = augment(tmp_path / "c", example, "rocket.jpg", seed=6, copies=3) if (tmp_path / "c").mkdir() is None else None
    assert all(a.shape == (224, 224, 3) for a in first)
    assert all(np.array_equal(a, b) for a, b in zip(first, second))
    assert not all(np.array_equal(a, c) for a, c in zip(first, other))


def test_flip_rate_follows_p(tmp_path):
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps({"transforms": [{"name": "HorizontalFlip", "p": 0.3}, {"name": "Resize", "height": 8, "width": 8}]}))
    subprocess.run([CLI, "augment", "--pipeline", spec, "--seed", "3", "--copies", "400", "--output-dir", tmp_path / "out",
                    "--replay", tmp_path / "replay.json", PHOTOS / "chelsea.png"], check=True, capture_output=True)
    samples = json.loads((tmp_path / "replay.json").read_text())["samples"]
    rate = np.mean([sample["transforms"][0]["applied"] for sample in samples])
    assert abs(rate - 0.3) < 4 * np.sqrt(0.3 * 0.7 / 400)


def test_jpeg_and_png_decode_as_opencv_does(tmp_path):
    for name in ["rocket.jpg", "retina.jpg", "astronaut.png"]:
        (ours,) = augment(tmp_path, [{"name": "HorizontalFlip", "p": 0}], name)
        np.testing.assert_array_equal(ours, rgb(PHOTOS / name))


def test_exif_orientation_is_applied(tmp_path):
    # A JPEG whose EXIF says "rotate 90 clockwise to view" (orientation 6) is read upright, as cv2.imread does.
    source = rgb(PHOTOS / "rocket.jpg")
    ok, encoded = cv2.imencode(".jpg", cv2.cvtColor(source, cv2.COLOR_RGB2BGR))
    data = encoded.tobytes()
    tiff = b"MM\x00\x2a\x00\x00\x00\x08\x00\x01" + b"\x01\x12\x00\x03\x00\x00\x00\x01\x00\x06\x00\x00" + b"\x00\x00\x00\x00"
    app1 = b"\xff\xe1" + (len(tiff) + 8).to_bytes(2, "big") + b"Exif\x00\x00" + tiff
    path = tmp_path / "turned.jpg"
    path.write_bytes(data[:2] + app1 + data[2:])
    info = subprocess.run([CLI, "image", "info", "--json", path], check=True, capture_output=True, text=True)
    assert json.loads(info.stdout) == {"path": str(path), "width": 427, "height": 640, "channels": 3, "format": "jpeg"}
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps({"transforms": [{"name": "HorizontalFlip", "p": 0}]}))
    subprocess.run([CLI, "augment", "--pipeline", spec, "--output-dir", tmp_path / "out", "--format", "png", path],
                   check=True, capture_output=True)
    np.testing.assert_array_equal(rgb(tmp_path / "out" / "turned_0.png"), rgb(path))


@pytest.mark.parametrize("transforms, message", [
    ([{"name": "Rotat"}], "unknown transform 'Rotat'"),
    ([{"name": "Rotate", "limt": 30}], "unknown field 'limt'"),
    ([{"name": "Rotate", "limit": [30, 10]}], "pipeline.transforms[0].limit"),
    ([{"name": "Resize", "height": 10}], "pipeline.transforms[0].width"),
    ([{"name": "Normalize"}, {"name": "HorizontalFlip"}], "Normalize must be the last"),
    ([{"name": "HorizontalFlip", "p": 2}], "probability"),
    ([{"name": "CenterCrop", "height": 5000, "width": 10}], "larger than the image"),
    ([{"name": "Rotate", "border_mode": "mirror"}], "not a border mode"),
])
def test_bad_pipelines_name_the_field(tmp_path, transforms, message):
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps({"transforms": transforms}))
    result = subprocess.run([CLI, "augment", "--pipeline", spec, "--output-dir", tmp_path / "out", PHOTOS / "chelsea.png"],
                            capture_output=True, text=True)
    assert result.returncode != 0
    assert message in result.stderr, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_corrupt_and_truncated_images_are_errors(tmp_path):
    data = (PHOTOS / "rocket.jpg").read_bytes()
    cases = {"truncated.jpg": data[:len(data) // 2], "garbage.png": b"\x89PNG\r\n\x1a\nnot really", "empty.jpg": b"",
             "text.jpg": b"hello", "cut.png": (PHOTOS / "chelsea.png").read_bytes()[:5000]}
    for name, content in cases.items():
        (tmp_path / name).write_bytes(content)
        result = subprocess.run([CLI, "image", "info", tmp_path / name] if name == "text.jpg" else
                                [CLI, "augment", "--pipeline", "/dev/null", "--output-dir", tmp_path / "o", tmp_path / name],
                                capture_output=True, text=True)
        assert result.returncode != 0, name
        assert "Traceback" not in result.stderr and result.stderr.strip(), name
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps({"transforms": [{"name": "HorizontalFlip"}]}))
    for name in ["truncated.jpg", "garbage.png", "cut.png"]:
        result = subprocess.run([CLI, "augment", "--pipeline", spec, "--output-dir", tmp_path / "o", tmp_path / name],
                                capture_output=True, text=True)
        assert result.returncode != 0 and name in result.stderr, (name, result.stderr)
