"""Optimizer and learning-rate schedule from a TrainConfig."""

from __future__ import annotations

import math

import torch
from torch import nn

from cnnlab.training.config import TrainConfig


def parameter_groups(model: nn.Module, weight_decay: float, decay_all: bool) -> list[dict]:
    """Two groups: weights of conv/FC layers get weight decay, BN parameters and biases none."""
    if decay_all:
        return [{"params": [p for p in model.parameters() if p.requires_grad],
                 "weight_decay": weight_decay}]
    decay, no_decay = [], []
    for param in model.parameters():
        if param.requires_grad:
            (decay if param.ndim > 1 else no_decay).append(param)
    return [{"params": decay, "weight_decay": weight_decay},
            {"params": no_decay, "weight_decay": 0.0}]


def make_optimizer(model: nn.Module, cfg: TrainConfig) -> torch.optim.Optimizer:
    """SGD with momentum; foreach kernels update all tensors of a group at once."""
    groups = parameter_groups(model, cfg.weight_decay, cfg.decay_bn_and_bias)
    return torch.optim.SGD(groups, lr=cfg.lr, momentum=cfg.momentum,
                           nesterov=cfg.nesterov and cfg.momentum > 0, foreach=True)


def make_scheduler(optimizer: torch.optim.Optimizer, cfg: TrainConfig,
                   total_steps: int) -> torch.optim.lr_scheduler.LRScheduler:
    """Per-step schedule: one-cycle (linear warmup, cosine down), cosine, or constant."""
    warmup = max(1, int(cfg.warmup_fraction * total_steps))

    def onecycle(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        progress = (step - warmup) / max(1, total_steps - warmup)
        return 0.5 * (1 + math.cos(math.pi * min(1.0, progress)))

    def cosine(step: int) -> float:
        return 0.5 * (1 + math.cos(math.pi * min(1.0, step / max(1, total_steps))))

    factor = {"onecycle": onecycle, "cosine": cosine, "constant": lambda step: 1.0}[cfg.schedule]
    return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)
