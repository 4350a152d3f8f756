"""Fashion-MNIST (Xiao, Rasul & Vollgraf 2017): find it, read it, keep it in memory.

Where we look, in order (the error message lists the same list):
  1. ``--data-dir`` (the ``data_dir`` argument)
  2. ``$CNNLAB_DATA``
  3. /usr/share/datasets/fashion-mnist (Debian package ``dataset-fashion-mnist``)
  4. ~/.cache/cnnlab/fashion-mnist, downloading there through torchvision when online
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch

from cnnlab.data.idx import read_idx
from cnnlab.data.memory import InMemoryDataset
from cnnlab.errors import CnnlabError
from cnnlab.fileio import cache_dir

CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker",
           "Bag", "Ankle boot"]
# Training-set statistics of the pixel values scaled to [0, 1].
MEAN, STD = (0.2860,), (0.3530,)
SYSTEM_DIR = Path("/usr/share/datasets/fashion-mnist")
FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}


def _find_file(folder: Path, stem: str) -> Path | None:
    for candidate in (folder / f"{stem}.gz", folder / stem, folder / "raw" / f"{stem}.gz",
                      folder / "raw" / stem, folder / "FashionMNIST" / "raw" / f"{stem}.gz",
                      folder / "FashionMNIST" / "raw" / stem):
        if candidate.is_file():
            return candidate
    return None


def _has_all(folder: Path) -> bool:
    return all(_find_file(folder, stem) for pair in FILES.values() for stem in pair)


def _download(target: Path) -> bool:
    """Download through torchvision; False when offline or the mirrors fail."""
    from torchvision.datasets import FashionMNIST

    try:
        for train in (True, False):
            FashionMNIST(str(target), train=train, download=True)
    except Exception:  # noqa: BLE001 - any network failure means "not available"
        return False
    return _has_all(target)


def locate(data_dir: str | Path | None = None, download: bool = True) -> Path:
    """The folder holding the four IDX files, searched in the documented order."""
    candidates: list[tuple[str, Path]] = []
    if data_dir is not None:
        candidates.append(("--data-dir", Path(data_dir)))
    if os.environ.get("CNNLAB_DATA"):
        candidates.append(("$CNNLAB_DATA", Path(os.environ["CNNLAB_DATA"])))
    candidates.append(("system", SYSTEM_DIR))
    cached = cache_dir() / "fashion-mnist"
    candidates.append(("cache", cached))
    for source, folder in candidates:
        if _has_all(folder):
            return folder
        if source == "--data-dir":  # an explicit folder that is wrong is an error, not a hint
            raise CnnlabError(f"--data-dir {folder}: Fashion-MNIST's four IDX files "
                              "(train-images-idx3-ubyte[.gz], ...) are not there")
    if download and _download(cached):
        return cached
    raise CnnlabError(
        "Fashion-MNIST not found: pass --data-dir DIR, set $CNNLAB_DATA, install the Debian "
        f"package dataset-fashion-mnist ({SYSTEM_DIR}), or go online so it downloads to {cached}"
    )


def load_split(split: str, data_dir: str | Path | None = None) -> InMemoryDataset:
    """Load 'train' (60,000 images) or 'test' (10,000) as uint8 tensors N x 1 x 28 x 28."""
    if split not in FILES:
        raise CnnlabError(f"unknown split {split!r}: use 'train' or 'test'")
    folder = locate(data_dir)
    image_file = _find_file(folder, FILES[split][0])
    label_file = _find_file(folder, FILES[split][1])
    images = read_idx(image_file, expected_ndim=3)
    labels = read_idx(label_file, expected_ndim=1)
    if images.shape[0] != labels.shape[0]:
        raise CnnlabError(f"{image_file}: {images.shape[0]:,} images but {label_file} has "
                          f"{labels.shape[0]:,} labels")
    if labels.size and labels.max() >= len(CLASSES):
        raise CnnlabError(f"{label_file}: label {int(labels.max())} is out of range 0..9")
    return InMemoryDataset(
        images=torch.from_numpy(np.ascontiguousarray(images[:, None])),
        labels=torch.from_numpy(labels.astype(np.int64)),
        classes=list(CLASSES), mean=MEAN, std=STD, name="fashion-mnist",
    )
