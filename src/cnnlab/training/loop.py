"""One training epoch and one evaluation pass over in-memory tensor datasets."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from cnnlab.data.memory import TensorDataset, batches


@dataclass
class EpochStats:
    """Mean loss and top-1 accuracy (fractions) of one pass."""

    loss: float
    accuracy: float
    images: int
    seconds: float


def prepare(images: torch.Tensor, dataset: TensorDataset, device: torch.device,
            channels_last: bool) -> torch.Tensor:
    """uint8 batch -> normalized float32 on ``device`` (channels_last when asked)."""
    x = dataset.normalize(images.to(device, non_blocking=True))
    return x.contiguous(memory_format=torch.channels_last) if channels_last else x


def random_hflip(x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Flip a random half of the batch left-right, as one batched operation."""
    flip = torch.rand(x.shape[0], generator=generator) < 0.5
    flip = flip.to(x.device)
    return torch.where(flip.view(-1, 1, 1, 1), x.flip(-1), x)


def train_one_epoch(
    model: nn.Module, data: TensorDataset, optimizer: torch.optim.Optimizer,
    scheduler: torch.optim.lr_scheduler.LRScheduler, *, batch_size: int, device: torch.device,
    generator: torch.Generator, channels_last: bool = True, hflip: bool = False,
    label_smoothing: float = 0.0, on_batch: Callable[[int, float, int], None] | None = None,
) -> EpochStats:
    """Train over every batch once; ``on_batch(images, loss, correct)`` reports progress."""
    import time

    model.train()
    start = time.perf_counter()
    total_loss = torch.zeros((), device=device)
    total_correct = torch.zeros((), device=device, dtype=torch.long)
    seen = 0
    for images, labels in batches(data, batch_size, shuffle=True, generator=generator,
                                  drop_last=len(data) > batch_size):
        x = prepare(images, data, device, channels_last)
        if hflip:
            x = random_hflip(x, generator)
        y = labels.to(device, non_blocking=True)
        logits = model(x)
        loss = F.cross_entropy(logits, y, label_smoothing=label_smoothing)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        scheduler.step()
        correct = (logits.detach().argmax(1) == y).sum()
        total_loss += loss.detach() * y.shape[0]
        total_correct += correct
        seen += y.shape[0]
        if on_batch is not None:
            on_batch(y.shape[0], float(loss.detach()), int(correct))
    seconds = time.perf_counter() - start
    return EpochStats(float(total_loss) / seen, float(total_correct) / seen, seen, seconds)


@torch.no_grad()
def predict_logits(model: nn.Module, data: TensorDataset, *, batch_size: int,
                   device: torch.device, channels_last: bool = True) -> torch.Tensor:
    """Logits N x num_classes (float32, on the CPU) for every sample, in order."""
    model.eval()
    out = []
    for images, _ in batches(data, batch_size, shuffle=False):
        out.append(model(prepare(images, data, device, channels_last)).float().cpu())
    return torch.cat(out)
