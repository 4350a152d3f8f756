"""CIFAR-10 and CIFAR-100 (Krizhevsky 2009) in torchvision's on-disk format, kept in memory.

Where we look, in order: ``--data-dir``, ``$CNNLAB_DATA``, ~/.cache/cnnlab/cifar (downloaded
there by torchvision when online). A folder counts when it holds ``cifar-10-batches-py/`` (or
``cifar-100-python/``) or is that folder itself. torchvision reads the batches (a pickle of
NumPy arrays: this is a dataset, not a checkpoint); we check their presence rather than their MD5
sums so that a regenerated or reduced copy loads too, and turn any read failure into an error
that names the file.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch
from torchvision.datasets import CIFAR10, CIFAR100

from cnnlab.data.memory import InMemoryDataset
from cnnlab.errors import CnnlabError
from cnnlab.fileio import cache_dir

# Per-channel training-set statistics of the pixels scaled to [0, 1] (CIFAR-10 and CIFAR-100).
STATS = {
    "cifar10": ((0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616)),
    "cifar100": ((0.5071, 0.4865, 0.4409), (0.2673, 0.2564, 0.2762)),
}
_CLASSES = {"cifar10": CIFAR10, "cifar100": CIFAR100}
# CIFAR-10's names as its batches.meta lists them, for a zoo model when the data is not present.
CIFAR10_CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse",
                   "ship", "truck")


def _presence_checked(base: type[CIFAR10]) -> type[CIFAR10]:
    """``base`` with the MD5 sums dropped: torchvision then checks only that the files exist."""
    return type(f"Present{base.__name__}", (base,), {
        "train_list": [[name, None] for name, _ in base.train_list],
        "test_list": [[name, None] for name, _ in base.test_list],
        "meta": {**base.meta, "md5": None},
    })


def _roots(data_dir: str | Path | None) -> list[tuple[str, Path]]:
    roots = []
    if data_dir is not None:
        roots.append(("--data-dir", Path(data_dir)))
    if os.environ.get("CNNLAB_DATA"):
        roots.append(("$CNNLAB_DATA", Path(os.environ["CNNLAB_DATA"])))
    roots.append(("cache", cache_dir() / "cifar"))
    return roots


def _find_root(name: str, data_dir: str | Path | None) -> Path | None:
    base_folder = _CLASSES[name].base_folder
    for source, root in _roots(data_dir):
        if (root / base_folder).is_dir():
            return root
        if root.name == base_folder and root.is_dir():
            return root.parent
        if source == "--data-dir":
            raise CnnlabError(f"--data-dir {root}: no {base_folder}/ folder there "
                              f"(torchvision's {name} layout)")
    return None


def _download(name: str) -> Path | None:
    target = cache_dir() / "cifar"
    try:
        for train in (True, False):
            _CLASSES[name](str(target), train=train, download=True)
    except Exception:  # noqa: BLE001 - any network failure means "not available"
        return None
    return target


def load_split(name: str, split: str, data_dir: str | Path | None = None) -> InMemoryDataset:
    """Load 'train' (50,000 images) or 'test' (10,000) as uint8 tensors N x 3 x 32 x 32."""
    if split not in ("train", "test"):
        raise CnnlabError(f"unknown split {split!r}: use 'train' or 'test'")
    root = _find_root(name, data_dir) or _download(name)
    if root is None:
        source = _CLASSES[name]
        raise CnnlabError(f"{name} not found: download {source.url}, unpack it into DIR (it "
                          f"holds {source.base_folder}/) and pass --data-dir DIR or set "
                          f"$CNNLAB_DATA=DIR; online, it downloads to {cache_dir() / 'cifar'}")
    reader = _presence_checked(_CLASSES[name])
    try:
        data = reader(str(root), train=split == "train", download=False)
    except RuntimeError:
        raise CnnlabError(f"{root / _CLASSES[name].base_folder}: batch files are missing") from None
    except Exception as err:  # noqa: BLE001 - unpickling errors come in many types
        raise CnnlabError(f"{root / _CLASSES[name].base_folder}: corrupt {name} batch "
                          f"({type(err).__name__}: {err})") from None
    images = torch.from_numpy(np.ascontiguousarray(data.data.transpose(0, 3, 1, 2)))
    labels = torch.tensor(data.targets, dtype=torch.int64)
    if labels.numel() and (labels.min() < 0 or labels.max() >= len(data.classes)):
        raise CnnlabError(f"{root}: {name} label out of range 0..{len(data.classes) - 1}")
    mean, std = STATS[name]
    return InMemoryDataset(images, labels, list(data.classes), mean, std, name)


def write_cifar(root: str | Path, name: str, train: np.ndarray, train_labels: np.ndarray,
                test: np.ndarray, test_labels: np.ndarray, classes: list[str]) -> Path:
    """Write images (N x 32 x 32 x 3 uint8) in torchvision's CIFAR layout (for tests and demos).

    CIFAR-10's training set is split over five batch files as in the original archive.
    """
    import pickle

    cls = _CLASSES[name]
    folder = Path(root) / cls.base_folder
    folder.mkdir(parents=True, exist_ok=True)
    label_key = "labels" if name == "cifar10" else "fine_labels"

    def dump(file: str, images: np.ndarray, labels: np.ndarray) -> None:
        entry = {"data": images.transpose(0, 3, 1, 2).reshape(len(images), -1),
                 label_key: [int(v) for v in labels]}
        (folder / file).write_bytes(pickle.dumps(entry))

    parts = np.array_split(np.arange(len(train)), len(cls.train_list))
    for (file, _), index in zip(cls.train_list, parts, strict=True):
        dump(file, train[index], train_labels[index])
    dump(cls.test_list[0][0], test, test_labels)
    meta = {cls.meta["key"]: list(classes)}
    (folder / cls.meta["filename"]).write_bytes(pickle.dumps(meta))
    return Path(root)
