"""A dataset that lives in memory as uint8 tensors; batches are index operations.

No per-sample Python: a batch is ``images[idx]`` converted and normalized in one go
(airbench's design), which is what makes CPU training of small models fast.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import torch


def normalize(images: torch.Tensor, mean: tuple[float, ...], std: tuple[float, ...],
              channels_last: bool = False, out: torch.Tensor | None = None) -> torch.Tensor:
    """uint8 N x C x H x W -> float32 scaled to [0, 1] and standardized per channel.

    ``out``: a float32 tensor to write the result into, used (and returned) when it has the
    result's shape, device and memory format; a training loop passes its previous batch's, so
    that a step does not allocate a fresh batch (a 64 x 3 x 224 x 224 float32 batch is 38 MB,
    above glibc's mmap threshold: every fresh one is page-faulted and zeroed by the kernel,
    which costs about twice the arithmetic; benchmarks/results/pipeline.md). The arithmetic is
    in place, in one order, so the values are the same with or without ``out``.
    """
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    if not (out is not None and out.shape == images.shape and out.dtype == torch.float32
            and out.device == images.device and out.is_contiguous(memory_format=fmt)):
        out = torch.empty(images.shape, dtype=torch.float32, device=images.device,
                          memory_format=fmt)
    m = torch.tensor(mean, device=images.device).view(1, -1, 1, 1)
    s = torch.tensor(std, device=images.device).view(1, -1, 1, 1)
    return out.copy_(images).div_(255.0).sub_(m).div_(s)


@dataclass
class InMemoryDataset:
    """Images N x C x H x W (uint8), labels N (int64), class names and normalization."""

    images: torch.Tensor
    labels: torch.Tensor
    classes: list[str]
    mean: tuple[float, ...]
    std: tuple[float, ...]
    name: str

    def __len__(self) -> int:
        return self.labels.shape[0]

    def subset(self, count: int | None) -> InMemoryDataset:
        """The first ``count`` samples (all when None)."""
        if count is None or count >= len(self):
            return self
        return InMemoryDataset(self.images[:count], self.labels[:count], self.classes, self.mean,
                             self.std, self.name)

    def normalize(self, images: torch.Tensor) -> torch.Tensor:
        """uint8 N x C x H x W -> float32, scaled to [0, 1] then standardized per channel."""
        return normalize(images, self.mean, self.std)


def batches(
    dataset: InMemoryDataset,
    batch_size: int,
    shuffle: bool,
    generator: torch.Generator | None = None,
    drop_last: bool = False,
) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """Yield (uint8 images, labels) batches by indexing the in-memory tensors."""
    n = len(dataset)
    order = torch.randperm(n, generator=generator) if shuffle else torch.arange(n)
    stop = n - n % batch_size if drop_last else n
    for start in range(0, stop, batch_size):
        idx = order[start:start + batch_size]
        yield dataset.images[idx], dataset.labels[idx]
