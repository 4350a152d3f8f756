"""Small learnable synthetic image sets in the on-disk layouts we read (tests, demos, drills).

Class k of K is a bright horizontal band at height k/K of the image over a noisy background, in
a colour of its own; any of our models learns it in a few steps. The Fashion-MNIST-like set is
gray: class k is a bright bar at row 2 + 2k.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from cnnlab.data.cifar import write_cifar
from cnnlab.data.idx import write_idx


def class_images(labels: np.ndarray, size: tuple[int, int], num_classes: int,
                 seed: int = 0) -> np.ndarray:
    """uint8 N x H x W x 3 images of the given labels."""
    rng = np.random.default_rng(seed)
    h, w = size
    images = rng.integers(0, 80, size=(len(labels), h, w, 3), dtype=np.uint8)
    band = max(1, h // (2 * num_classes))
    for i, label in enumerate(labels):
        top = int(label) * h // num_classes
        colour = [(60 + 70 * ((int(label) + c) % 3)) for c in range(3)]
        images[i, top:top + band, w // 8: w - w // 8] = colour
    return images


def write_image_folder(root: str | Path, classes: list[str], per_class: dict[str, int],
                       size: tuple[int, int] = (40, 48), seed: int = 0) -> Path:
    """ROOT/<split>/<class>/<i>.png with ``per_class[split]`` images per class and split."""
    root = Path(root)
    for s, (split, count) in enumerate(per_class.items()):
        labels = np.repeat(np.arange(len(classes)), count)
        images = class_images(labels, size, len(classes), seed + s)
        for i, (image, label) in enumerate(zip(images, labels, strict=True)):
            folder = root / split / classes[int(label)]
            folder.mkdir(parents=True, exist_ok=True)
            Image.fromarray(image).save(folder / f"{i:05d}.png")
    return root


def write_cifar_like(root: str | Path, name: str = "cifar10", train: int = 100,
                     test: int = 40, seed: int = 0) -> Path:
    """A CIFAR-10/100-format copy with synthetic 32x32 images (torchvision's batch files)."""
    k = 10 if name == "cifar10" else 100
    rng = np.random.default_rng(seed)
    train_labels, test_labels = rng.integers(0, k, train), rng.integers(0, k, test)
    return write_cifar(root, name, class_images(train_labels, (32, 32), k, seed), train_labels,
                       class_images(test_labels, (32, 32), k, seed + 1), test_labels,
                       [f"class{i}" for i in range(k)])


def write_fashion_mnist_like(folder: str | Path, train: int = 600, test: int = 200,
                             seed: int = 0) -> Path:
    """Fashion-MNIST's four IDX files (gzip) in ``folder``: ``train`` and ``test`` uint8
    28 x 28 gray images of 10 classes, class k a bright bar (230) over rows 2 + 2k .. 4 + 2k,
    columns 4 .. 23, on noise in 0 .. 59. Labels are drawn uniformly."""
    folder = Path(folder)
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    for split, count in (("train", train), ("t10k", test)):
        labels = rng.integers(0, 10, size=count).astype(np.uint8)
        images = rng.integers(0, 60, size=(count, 28, 28)).astype(np.uint8)
        for i, label in enumerate(labels):
            row = 2 + 2 * int(label)
            images[i, row:row + 3, 4:24] = 230
        write_idx(folder / f"{split}-images-idx3-ubyte.gz", images)
        write_idx(folder / f"{split}-labels-idx1-ubyte.gz", labels)
    return folder
