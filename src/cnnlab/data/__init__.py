"""Datasets (in-memory tensors or image files) and the loaders behind one interface."""

from cnnlab.data.folder import FileDataset
from cnnlab.data.memory import InMemoryDataset, batches
from cnnlab.data.registry import DATASETS, Dataset, load_dataset

__all__ = ["DATASETS", "Dataset", "FileDataset", "InMemoryDataset", "batches", "load_dataset"]
