"""Classifies the 1,000 bundled Fashion-MNIST images with the CNN trained by
scripts/train_fashion_mnist.py, on Kiln, and checks the accuracy against what TensorFlow itself
measured on the same images (recorded in examples/models/fashion_mnist_cnn.json).

Run from the repository: .venv/bin/python examples/classify_fashion_mnist.py
"""
import json
import sys
import time
from pathlib import Path

import numpy as np

import kiln

HERE = Path(__file__).parent
card = json.loads((HERE / "models" / "fashion_mnist_cnn.json").read_text())
images = np.load(HERE / "data" / "fashion_mnist_1000.npy")
labels = np.load(HERE / "data" / "fashion_mnist_1000_labels.npy")
batch = (images.astype(np.float32) / 255.0)[..., None]  # [N, 28, 28, 1], as in training

with kiln.Model(HERE / "models" / "fashion_mnist_cnn.onnx") as model:
    model.run({"image": batch[:1]})  # plans for batch 1 once
    start = time.perf_counter()
    probabilities = model.run({"image": batch})["probabilities"]
    elapsed = time.perf_counter() - start

predicted = probabilities.argmax(axis=1)
accuracy = float((predicted == labels).mean())
agreement = float((predicted == np.array(card["sample_predictions"])).mean())
print(f"Fashion-MNIST CNN ({card['framework']})")
print(f"  Kiln:       accuracy {accuracy:.3f} on the {len(labels)} bundled images "
      f"({len(labels) / elapsed:,.0f} images/s, batch {len(labels)})")
print(f"  TensorFlow: accuracy {card['sample_accuracy']:.3f} on the same images "
      f"(test set: {card['test_accuracy']:.3f}); same prediction on {agreement:.1%} of images")
for index in range(3):
    print(f"  image {index}: {card['classes'][predicted[index]]} "
          f"(p={probabilities[index, predicted[index]]:.2f}), labelled {card['classes'][labels[index]]}")
if abs(accuracy - card["sample_accuracy"]) > 1e-9:
    sys.exit("Kiln's accuracy differs from TensorFlow's")
