"""Shared fixtures: a tiny Fashion-MNIST-format dataset written by the tests themselves."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

from cnnlab.data import fashion_mnist
from cnnlab.data.synthetic import write_fashion_mnist_like

torch.set_num_threads(1)  # pytest-xdist runs one worker per core


@pytest.fixture(scope="session")
def fake_fashion(tmp_path_factory) -> Path:
    """A small synthetic dataset in Fashion-MNIST's file layout."""
    return write_fashion_mnist_like(tmp_path_factory.mktemp("fake-fashion"))


@pytest.fixture
def no_download(monkeypatch, tmp_path):
    """Point every dataset lookup at empty places, so nothing is found or downloaded."""
    monkeypatch.delenv("CNNLAB_DATA", raising=False)
    monkeypatch.setattr(fashion_mnist, "SYSTEM_DIR", tmp_path / "no-system-copy")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setattr(fashion_mnist, "_download", lambda target: False)
    return tmp_path


@pytest.fixture
def real_fashion_dir() -> Path:
    """The Debian package's copy of Fashion-MNIST; the test is skipped when it is absent."""
    folder = Path(os.environ.get("CNNLAB_DATA", "/usr/share/datasets/fashion-mnist"))
    if not (folder / "t10k-images-idx3-ubyte.gz").exists():
        pytest.skip("Debian package dataset-fashion-mnist absent (make test installs it)")
    return folder
