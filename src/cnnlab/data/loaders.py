"""Batches for training and evaluation, from in-memory tensors or from image files.

Training order is a function of (seed, epoch) only, and each process of a distributed run takes
its contiguous share of every global batch (the job of DistributedSampler, done so that 2
processes with B/2 images see exactly the images 1 process with B sees). A batch is addressed by
its step number, so a resumed run starts at any step without replaying the ones before.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import torch

from cnnlab.data.augment import (
    BATCHED,
    BatchAugment,
    eval_transform,
    step_generator,
    train_transform,
)
from cnnlab.data.folder import Batch, FileDataset, collate, index_seed
from cnnlab.data.jpeg import DecodeCrop, fused_pieces
from cnnlab.data.memory import InMemoryDataset
from cnnlab.errors import CnnlabError


def epoch_order(n: int, seed: int, epoch: int) -> torch.Tensor:
    """The shuffled sample order of one epoch (the same on every rank)."""
    return torch.randperm(n, generator=torch.Generator().manual_seed(seed * 100_003 + epoch))


@dataclass
class Sharding:
    """This process's share of each global batch: ``rank`` of ``world``."""

    rank: int = 0
    world: int = 1

    def part(self, global_n: int) -> slice:
        per = global_n // self.world
        return slice(self.rank * per, (self.rank + 1) * per)


class TrainBatches:
    """Per-step uint8 batches of a training set, augmented, for one process.

    ``steps_per_epoch`` drops the last partial batch (unless the set is smaller than a batch).
    Image files with the "inception" crop (and flips) are decoded and cropped in one step by
    ``cnnlab.data.jpeg.DecodeCrop``; ``reduced_decode`` lets it decode JPEGs at reduced size.
    """

    def __init__(self, data: InMemoryDataset | FileDataset, batch_size: int, augment: list[str],
                 *, seed: int, sharding: Sharding, image_size: int | None = None,
                 workers: int = 0, pin_memory: bool = False,
                 reduced_decode: bool = True) -> None:
        if batch_size % sharding.world:
            raise CnnlabError(f"batch size {batch_size} does not split evenly over "
                              f"{sharding.world} processes")
        self.data, self.batch_size, self.seed, self.sharding = data, batch_size, seed, sharding
        self.workers, self.pin_memory = workers, pin_memory
        self.global_n = min(batch_size, len(data))
        self.steps_per_epoch = max(1, len(data) // batch_size)
        channels = 3 if isinstance(data, FileDataset) else int(data.images.shape[1])
        if isinstance(data, FileDataset):
            flips = fused_pieces(augment)
            transform = train_transform(augment, image_size or 224, channels) if flips is None \
                else DecodeCrop(image_size or 224, flips, reduced_decode)
            self.files = data.with_transform(transform, data.skip_bad)
        else:
            self.augment = BatchAugment(augment, channels)

    def _indices(self, order: torch.Tensor, step: int) -> torch.Tensor:
        start = step * self.batch_size
        return order[start:start + self.global_n][self.sharding.part(self.global_n)]

    def epoch(self, epoch: int, start_step: int = 0) -> Iterator[tuple[int, Batch]]:
        """(step, batch) for steps ``start_step`` .. ``steps_per_epoch - 1`` of ``epoch``."""
        order = epoch_order(len(self.data), self.seed, epoch)
        steps = range(start_step, self.steps_per_epoch)
        if isinstance(self.data, FileDataset):
            yield from self._file_epoch(order, epoch, steps)
            return
        for step in steps:
            idx = self._indices(order, step)
            seeds = [index_seed(self.seed, epoch, int(i)) for i in idx] if self._slow() else []
            x = self.augment(self.data.images[idx], step_generator(self.seed, epoch, step),
                             self.global_n, self.sharding.part(self.global_n).start, seeds)
            yield step, Batch(x, self.data.labels[idx])

    def _slow(self) -> bool:
        return any(n not in BATCHED for n in self.augment.names)

    def _file_epoch(self, order: torch.Tensor, epoch: int,
                    steps: range) -> Iterator[tuple[int, Batch]]:
        plan = [[(int(i), index_seed(self.seed, epoch, int(i)))
                 for i in self._indices(order, step)] for step in steps]
        loader = torch.utils.data.DataLoader(
            self.files, batch_sampler=plan, num_workers=self.workers, collate_fn=collate,
            pin_memory=self.pin_memory)
        yield from zip(steps, loader, strict=True)


def eval_batches(data: InMemoryDataset | FileDataset, batch_size: int, *,
                 indices: torch.Tensor | None = None, image_size: int | None = None,
                 resize: int | None = None, workers: int = 0,
                 transform: Callable | None = None) -> Iterator[Batch]:
    """uint8 batches in order over ``indices`` (default: all); files get a centre crop of
    ``image_size`` after resizing the shorter side to ``resize`` unless ``transform`` is given."""
    indices = torch.arange(len(data)) if indices is None else indices
    if isinstance(data, InMemoryDataset):
        for start in range(0, len(indices), batch_size):
            idx = indices[start:start + batch_size]
            yield Batch(data.images[idx], data.labels[idx])
        return
    files = data.with_transform(transform or eval_transform(image_size or 224, resize),
                                data.skip_bad)
    plan = [[(int(i), 0) for i in indices[s:s + batch_size]]
            for s in range(0, len(indices), batch_size)]
    yield from torch.utils.data.DataLoader(files, batch_sampler=plan, num_workers=workers,
                                           collate_fn=collate)


def take(data: InMemoryDataset | FileDataset,
         indices: torch.Tensor) -> InMemoryDataset | FileDataset:
    """The samples at ``indices`` as a dataset of the same kind."""
    if isinstance(data, InMemoryDataset):
        return InMemoryDataset(data.images[indices], data.labels[indices], data.classes, data.mean,
                             data.std, data.name)
    return FileDataset([data.samples[int(i)] for i in indices], data.classes, data.mean,
                       data.std, data.name, data.transform, data.skip_bad)


def split_holdout(data: InMemoryDataset | FileDataset, count: int) -> tuple:
    """(train, validation): ``count`` samples picked by a fixed permutation are held out."""
    if count <= 0:
        return data, None
    if count >= len(data):
        raise CnnlabError(f"holdout {count} leaves no training images (the set has {len(data)})")
    order = torch.randperm(len(data), generator=torch.Generator().manual_seed(20_12))
    return take(data, order[count:].sort().values), take(data, order[:count].sort().values)
