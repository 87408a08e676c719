"""Writes the demo's load-test data: one row per bundled Fashion-MNIST image, its pixels as the
JSON instance that `kiln serve`'s :predict takes (28x28x1, scaled to 0..1 as in training)."""
import csv
import json
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).parent
images = np.load(HERE.parent / "data" / "fashion_mnist_1000.npy")[:50]
with open(sys.argv[1], "w", newline="") as out:
    writer = csv.writer(out)
    writer.writerow(["image"])
    for image in images:
        pixels = (image.astype(np.float32) / 255.0)[..., None].round(4).tolist()
        writer.writerow([json.dumps(pixels, separators=(",", ":"))])
