"""Train a tiny cats-vs-dogs classifier on data/{cat,dog}/*.png (the git-mlv demo's model).

Numpy only, deterministic: the same images always give the same model.bin byte for byte.
Features per image: its pixels (brightness, blobs) and the magnitude of its 2-D Fourier transform
(stripes, whatever their phase). Model: L2-regularised logistic regression fitted by full-batch
gradient descent. Split: a file is held out for testing when the hash of its name says so, so a file
stays on the same side of the split however many images are added later.

Writes model.bin (float32 weights, then the feature means and scales) and metrics.json (accuracy and
log loss on the held-out images).
"""

from __future__ import annotations

import hashlib
import json
import os
import struct
import sys
import zlib

import numpy as np

DATA = "data"
CLASSES = ("cat", "dog")  # label 0, label 1
TEST_PERCENT = 20
STEPS, LEARNING_RATE, L2 = 500, 0.05, 0.05  # a small step: 2,048 correlated features


def read_png_gray(path: str) -> np.ndarray:
    """Decode an 8-bit greyscale, non-interlaced PNG into a (height, width) uint8 array."""
    with open(path, "rb") as f:
        blob = f.read()
    if blob[:8] != b"\x89PNG\r\n\x1a\n":
        sys.exit(f"train.py: {path} is not a PNG (is its data missing?)")
    pos, idat, width, height = 8, [], 0, 0
    while pos < len(blob):
        (length,), kind = struct.unpack(">I", blob[pos:pos + 4]), blob[pos + 4:pos + 8]
        body = blob[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour = struct.unpack(">IIBB", body[:10])
            if (depth, colour) != (8, 0):
                sys.exit(f"train.py: {path}: only 8-bit greyscale PNGs are supported")
        elif kind == b"IDAT":
            idat.append(body)
        pos += 12 + length
    raw = np.frombuffer(zlib.decompress(b"".join(idat)), np.uint8).reshape(height, width + 1)
    out = np.zeros((height, width), np.int32)
    prev = np.zeros(width, np.int32)
    for y in range(height):
        kind, row = raw[y, 0], raw[y, 1:].astype(np.int32)
        if kind == 2:  # Up
            row = (row + prev) & 0xFF
        elif kind in (1, 3, 4):  # Sub, Average, Paeth depend on the left pixel: go pixel by pixel
            cur = np.zeros(width, np.int32)
            for x in range(width):
                a = cur[x - 1] if x else 0
                b, c = prev[x], (prev[x - 1] if x else 0)
                if kind == 1:
                    pred = a
                elif kind == 3:
                    pred = (a + b) // 2
                else:
                    p = a + b - c
                    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                    pred = a if pa <= pb and pa <= pc else b if pb <= pc else c
                cur[x] = (row[x] + pred) & 0xFF
            row = cur
        out[y] = prev = row
    return out.astype(np.uint8)


def is_test(name: str) -> bool:
    """Whether a file belongs to the held-out split (stable: depends on its name only)."""
    return hashlib.sha256(name.encode()).digest()[0] * 100 // 256 < TEST_PERCENT


def features(img: np.ndarray) -> np.ndarray:
    """Pixels scaled to [0, 1] and the log-magnitude of the centred 2-D spectrum."""
    x = img.astype(np.float64) / 255.0
    spectrum = np.log1p(np.abs(np.fft.fft2(x - x.mean())))
    return np.concatenate([x.ravel(), spectrum.ravel()])


def load() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Features, labels and the test mask of every image, in sorted path order."""
    feats, labels, test = [], [], []
    for label, cls in enumerate(CLASSES):
        folder = os.path.join(DATA, cls)
        for name in sorted(os.listdir(folder)):
            if name.endswith(".png"):
                feats.append(features(read_png_gray(os.path.join(folder, name))))
                labels.append(label)
                test.append(is_test(f"{cls}/{name}"))
    return np.array(feats), np.array(labels, np.float64), np.array(test)


def sigmoid(z: np.ndarray) -> np.ndarray:
    """The logistic function, safe for large |z|."""
    return 0.5 * (1.0 + np.tanh(0.5 * z))


def main() -> int:
    """Fit on the training split, measure on the held-out split, write model.bin and metrics.json."""
    x, y, test = load()
    train = ~test
    mean, scale = x[train].mean(axis=0), x[train].std(axis=0) + 1e-6
    x = (x - mean) / scale
    w, b = np.zeros(x.shape[1]), 0.0
    xt, yt = x[train], y[train]
    for _ in range(STEPS):
        err = sigmoid(xt @ w + b) - yt
        w -= LEARNING_RATE * (xt.T @ err / len(yt) + L2 * w)
        b -= LEARNING_RATE * err.mean()
    p = np.clip(sigmoid(x[test] @ w + b), 1e-7, 1 - 1e-7)
    accuracy = float(((p > 0.5) == (y[test] > 0.5)).mean())
    loss = float(-(y[test] * np.log(p) + (1 - y[test]) * np.log(1 - p)).mean())
    model = np.concatenate([[b], w, mean, scale]).astype("<f4")
    with open("model.bin", "wb") as f:
        f.write(model.tobytes())
    metrics = {"accuracy": round(accuracy, 4), "loss": round(loss, 4),
               "train_images": int(train.sum()), "test_images": int(test.sum())}
    with open("metrics.json", "w") as f:
        json.dump(metrics, f, indent=2, sort_keys=True)
        f.write("\n")
    print(f"trained on {metrics['train_images']} images, tested on {metrics['test_images']}: "
          f"accuracy {accuracy:.3f}, loss {loss:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
