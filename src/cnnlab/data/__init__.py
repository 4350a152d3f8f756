"""Datasets as in-memory tensors, and the loaders behind one interface."""

from cnnlab.data.memory import TensorDataset, batches
from cnnlab.data.registry import DATASETS, load_dataset

__all__ = ["DATASETS", "TensorDataset", "batches", "load_dataset"]
