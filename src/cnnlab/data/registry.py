"""Datasets by name: ``load_dataset("fashion-mnist", "train", data_dir)``."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from cnnlab.data import fashion_mnist
from cnnlab.data.memory import TensorDataset
from cnnlab.errors import CnnlabError

DATASETS: dict[str, Callable[[str, str | Path | None], TensorDataset]] = {
    "fashion-mnist": fashion_mnist.load_split,
}


def load_dataset(name: str, split: str, data_dir: str | Path | None = None) -> TensorDataset:
    """Load a split of a named dataset as in-memory uint8 tensors."""
    if name not in DATASETS:
        raise CnnlabError(f"unknown dataset {name!r}: choose from {', '.join(sorted(DATASETS))}")
    return DATASETS[name](split, data_dir)
