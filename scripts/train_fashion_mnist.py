"""Trains a small CNN on Fashion-MNIST with TensorFlow/Keras, exports it to ONNX with tf2onnx,
and records its accuracy as TensorFlow measures it — on the 10,000 test images and on the 1,000
sample images bundled in examples/data — so that `make demo` can check that Kiln agrees.

Needs: apt-get install dataset-fashion-mnist; pip install tensorflow-cpu==2.21.0 tf2onnx==1.17.0
Run:   python scripts/train_fashion_mnist.py   (about two minutes on two cores)
Writes examples/models/fashion_mnist_cnn.{onnx,json} and examples/data/fashion_mnist_1000*.npy.
"""
import gzip
import json
from pathlib import Path

import numpy as np
import tensorflow as tf
import tf2onnx

ROOT = Path(__file__).resolve().parent.parent
DATA = Path("/usr/share/datasets/fashion-mnist")
SAMPLES = ROOT / "examples" / "data" / "fashion_mnist_1000"
SEED = 2024
EPOCHS = 4


def read_idx(name):
    with gzip.open(DATA / name) as file:
        raw = file.read()
    dims = raw[3]
    shape = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def bundled_samples():
    rows = [line.split(",") for line in (SAMPLES / "labels.csv").read_text().splitlines()[1:]]
    images = np.stack([tf.io.decode_png(tf.io.read_file(str(SAMPLES / row[0])), channels=1).numpy()[:, :, 0] for row in rows])
    labels = np.array([int(row[1]) for row in rows], dtype=np.int64)
    return images, labels


def main():
    tf.keras.utils.set_random_seed(SEED)
    train_x, train_y = read_idx("train-images-idx3-ubyte.gz"), read_idx("train-labels-idx1-ubyte.gz")
    test_x, test_y = read_idx("t10k-images-idx3-ubyte.gz"), read_idx("t10k-labels-idx1-ubyte.gz")

    def prepare(images):
        return (images.astype(np.float32) / 255.0)[..., None]

    model = tf.keras.Sequential([
        tf.keras.Input((28, 28, 1), name="image"),
        tf.keras.layers.Conv2D(32, 3, padding="same", activation="relu"),
        tf.keras.layers.MaxPooling2D(),
        tf.keras.layers.Conv2D(64, 3, padding="same", activation="relu"),
        tf.keras.layers.MaxPooling2D(),
        tf.keras.layers.Flatten(),
        tf.keras.layers.Dense(128, activation="relu"),
        tf.keras.layers.Dense(10, activation="softmax"),
    ])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(prepare(train_x), train_y, epochs=EPOCHS, batch_size=128, verbose=2)

    test_probabilities = model.predict(prepare(test_x), batch_size=500, verbose=0)
    test_accuracy = float((test_probabilities.argmax(axis=1) == test_y).mean())
    sample_images, sample_labels = bundled_samples()
    sample_probabilities = model.predict(prepare(sample_images), batch_size=500, verbose=0)
    sample_predictions = sample_probabilities.argmax(axis=1)
    sample_accuracy = float((sample_predictions == sample_labels).mean())

    signature = [tf.TensorSpec([None, 28, 28, 1], tf.float32, name="image")]
    function = tf.function(lambda image: {"probabilities": model(image, training=False)}, input_signature=signature)
    onnx_model, _ = tf2onnx.convert.from_function(function, input_signature=signature, opset=17)
    models = ROOT / "examples" / "models"
    models.mkdir(parents=True, exist_ok=True)
    (models / "fashion_mnist_cnn.onnx").write_bytes(onnx_model.SerializeToString())
    np.save(ROOT / "examples" / "data" / "fashion_mnist_1000.npy", sample_images)
    np.save(ROOT / "examples" / "data" / "fashion_mnist_1000_labels.npy", sample_labels)
    record = {
        "format": "kiln.model-card/1",
        "model": "fashion_mnist_cnn.onnx",
        "framework": f"tensorflow {tf.__version__} (Keras), exported with tf2onnx {tf2onnx.__version__}, opset 17",
        "data": "Fashion-MNIST (Debian dataset-fashion-mnist, MIT, (c) 2017 Zalando SE): 60,000 training images",
        "input": "image: float32 [N, 28, 28, 1], pixels / 255",
        "classes": ["T-shirt_top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle_boot"],
        "epochs": EPOCHS, "seed": SEED,
        "test_accuracy": test_accuracy,
        "sample_accuracy": sample_accuracy,
        "sample_predictions": sample_predictions.tolist(),
    }
    (models / "fashion_mnist_cnn.json").write_text(json.dumps(record, indent=1) + "\n")
    print(f"test accuracy {test_accuracy:.4f}, bundled sample accuracy {sample_accuracy:.4f}")


if __name__ == "__main__":
    main()
