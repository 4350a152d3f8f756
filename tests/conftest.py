"""Shared fixtures: a tiny Fashion-MNIST-format dataset written by the tests themselves."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import torch

from cnnlab.data.idx import write_idx

torch.set_num_threads(1)  # pytest-xdist runs one worker per core


def make_fake_fashion(folder: Path, train: int = 600, test: int = 200, seed: int = 0) -> Path:
    """Write a learnable 10-class IDX dataset: each class is a bright bar at its own place."""
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


@pytest.fixture(scope="session")
def fake_fashion(tmp_path_factory) -> Path:
    """A small synthetic dataset in Fashion-MNIST's file layout."""
    return make_fake_fashion(tmp_path_factory.mktemp("fake-fashion"))


@pytest.fixture
def no_download(monkeypatch, tmp_path):
    """Point every dataset lookup at empty places, so nothing is found or downloaded."""
    from cnnlab.data import fashion_mnist

    monkeypatch.delenv("CNNLAB_DATA", raising=False)
    monkeypatch.setattr(fashion_mnist, "SYSTEM_DIR", tmp_path / "no-system-copy")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setattr(fashion_mnist, "_download", lambda target: False)
    return tmp_path


def real_fashion_dir() -> Path | None:
    """The Debian package's copy of Fashion-MNIST, if installed."""
    folder = Path(os.environ.get("CNNLAB_DATA", "/usr/share/datasets/fashion-mnist"))
    return folder if (folder / "t10k-images-idx3-ubyte.gz").exists() else None
