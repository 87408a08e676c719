"""Classify handwritten digits by their nearest class centroid, with the distances computed by
libkiln's matrix multiply from Python (zero-copy numpy views), checked against numpy.

Run from the repository: .venv/bin/python examples/digits_nearest_centroid.py
"""
from pathlib import Path

import numpy as np

import kiln

data = np.loadtxt(Path(__file__).parent / "data" / "sklearn_digits_8x8.csv", delimiter=",", skiprows=1,
                  dtype=np.float32)
pixels, labels = data[:, :-1], data[:, -1].astype(np.int64)
train, test = slice(0, 1000), slice(1000, None)

centroids = np.stack([pixels[train][labels[train] == digit].mean(axis=0) for digit in range(10)])

# ||x - c||^2 = ||x||^2 - 2 x.c + ||c||^2; x.c for all pairs is one GEMM. centroids.T is a
# transposed view: Kiln passes it to BLAS with a transpose flag, no copy.
products = kiln.matmul(pixels[test], centroids.T)
distances = (pixels[test] ** 2).sum(axis=1, keepdims=True) - 2 * products + (centroids ** 2).sum(axis=1)
predicted = distances.argmin(axis=1)

numpy_products = pixels[test] @ centroids.T
worst = float(np.abs(products - numpy_products).max() / np.abs(numpy_products).max())
assert worst < 1e-6, f"kiln and numpy disagree: relative error {worst}"

accuracy = float((predicted == labels[test]).mean())
print(f"digits (8x8, 1000 train / {len(predicted)} test), nearest centroid on kiln.matmul: "
      f"accuracy {accuracy:.3f}  (largest relative difference from numpy: {worst:.1e})")
confusion = np.zeros((10, 10), dtype=np.int64)
np.add.at(confusion, (labels[test], predicted), 1)
print("per-digit recall: " + "  ".join(f"{d}:{confusion[d, d] / confusion[d].sum():.2f}" for d in range(10)))
