"""Datasets by name: ``load_dataset("cifar10", "train", data_dir)``.

Small datasets come back as in-memory uint8 tensors (``InMemoryDataset``: batches are index
operations); image-file datasets as a ``FileDataset`` decoded on demand by worker processes.
Both have ``len()``, ``labels``, ``classes``, ``mean``, ``std``, ``name`` and ``subset(n)``.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path

from cnnlab.data import cifar, fashion_mnist, folder
from cnnlab.data.folder import FileDataset
from cnnlab.data.memory import InMemoryDataset
from cnnlab.errors import CnnlabError

Dataset = InMemoryDataset | FileDataset

DATASETS: dict[str, Callable[[str, str | Path | None], Dataset]] = {
    "fashion-mnist": fashion_mnist.load_split,
    "cifar10": partial(cifar.load_split, "cifar10"),
    "cifar100": partial(cifar.load_split, "cifar100"),
    "imagefolder": folder.load_image_folder,
    "imagenet": folder.load_imagenet,
}


def load_dataset(name: str, split: str, data_dir: str | Path | None = None) -> Dataset:
    """Load split 'train' or 'test' (ImageNet's val) of a named dataset.

    Returns an ``InMemoryDataset`` (images uint8 N x C x H x W, labels int64 N: Fashion-MNIST
    1 x 28 x 28, CIFAR 3 x 32 x 32) or, for image folders and ImageNet, a ``FileDataset``
    decoded on demand. ``data_dir`` None looks in the dataset's usual places.
    """
    if name not in DATASETS:
        raise CnnlabError(f"unknown dataset {name!r}: choose from {', '.join(sorted(DATASETS))}")
    if split not in ("train", "test"):
        raise CnnlabError(f"unknown split {split!r}: use 'train' or 'test'")
    return DATASETS[name](split, data_dir)
