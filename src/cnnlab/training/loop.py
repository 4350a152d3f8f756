"""Logits of a model over an in-memory tensor dataset (the trainer's loop is in run.py/engine.py;
multi-crop prediction for any dataset is cnnlab.evaluation.predict)."""

from __future__ import annotations

import torch
from torch import nn

from cnnlab.data.memory import TensorDataset, batches


def prepare(images: torch.Tensor, dataset: TensorDataset, device: torch.device,
            channels_last: bool) -> torch.Tensor:
    """uint8 batch -> normalized float32 on ``device`` (channels_last when asked)."""
    x = dataset.normalize(images.to(device, non_blocking=True))
    return x.contiguous(memory_format=torch.channels_last) if channels_last else x


@torch.no_grad()
def predict_logits(model: nn.Module, data: TensorDataset, *, batch_size: int,
                   device: torch.device, channels_last: bool = True) -> torch.Tensor:
    """Logits N x num_classes (float32, on the CPU) for every sample, in order."""
    model.eval()
    out = []
    for images, _ in batches(data, batch_size, shuffle=False):
        out.append(model(prepare(images, data, device, channels_last)).float().cpu())
    return torch.cat(out)
