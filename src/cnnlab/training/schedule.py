"""Optimizer and learning-rate schedule from a TrainConfig.

The schedule is one ``LambdaLR`` whose factor is a function of the global step: the papers'
shapes (step, multistep, cosine, one-cycle) and a linear warmup multiply, and "divide by 10 when
the validation error stops improving" is a ``Plateau`` whose running scale the factor reads.
One per-step object keeps resume simple: its state is the step count plus the plateau's.
``onecycle-linear`` is torch's own OneCycleLR (linear ramps, cycled momentum) instead.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Callable
from typing import Any

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
    """SGD (momentum, optional Nesterov) or AdamW over ``parameter_groups``.

    foreach kernels update a group at once; with ``fused_optimizer`` torch's fused kernel is
    used where this torch has one for the device and dtype (foreach otherwise).
    """
    groups = parameter_groups(model, cfg.weight_decay, cfg.decay_bn_and_bias)
    if cfg.optimizer == "adamw":
        kind, options = torch.optim.AdamW, {"lr": cfg.lr}
    else:
        kind, options = torch.optim.SGD, {"lr": cfg.lr, "momentum": cfg.momentum,
                                          "nesterov": cfg.nesterov and cfg.momentum > 0}
    if cfg.fused_optimizer:
        try:
            return kind(groups, fused=True, **options)
        except (RuntimeError, ValueError):  # no fused kernel for this device or dtype
            pass
    return kind(groups, foreach=True, **options)


class Plateau:
    """Multiply the learning rate by ``gamma`` after ``patience`` epochs without a new best
    (lowest) validation error; the papers' "divide by 10 when the error stops improving"."""

    def __init__(self, patience: int, gamma: float) -> None:
        self.patience, self.gamma = patience, gamma
        self.best, self.bad_epochs, self.scale = math.inf, 0, 1.0

    def update(self, error: float) -> bool:
        """Record one epoch's error; True when the learning rate was just cut."""
        if error < self.best:
            self.best, self.bad_epochs = error, 0
            return False
        self.bad_epochs += 1
        if self.bad_epochs <= self.patience:
            return False
        self.scale *= self.gamma
        self.bad_epochs = 0
        return True

    def state_dict(self) -> dict[str, Any]:
        return {"best": self.best, "bad_epochs": self.bad_epochs, "scale": self.scale}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.best, self.bad_epochs, self.scale = state["best"], state["bad_epochs"], state["scale"]


def lr_factor(cfg: TrainConfig, total_steps: int, steps_per_epoch: int,
              plateau: Plateau | None = None) -> Callable[[int], float]:
    """The multiplier of the base learning rate at global step ``step`` (0-based)."""
    warmup = max(1, int(cfg.warmup_fraction * total_steps))

    def unit(step: int) -> int:  # the schedule's clock: whole epochs or steps
        return step // steps_per_epoch if cfg.schedule_unit == "epoch" else step

    def onecycle(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        progress = (step - warmup) / max(1, total_steps - warmup)
        return 0.5 * (1 + math.cos(math.pi * min(1.0, progress)))

    shapes: dict[str, Callable[[int], float]] = {
        "onecycle": onecycle,
        "cosine": lambda s: 0.5 * (1 + math.cos(math.pi * min(1.0, s / max(1, total_steps)))),
        "constant": lambda s: 1.0,
        "step": lambda s: cfg.gamma ** (unit(s) // max(1, cfg.step_size)),
        "multistep": lambda s: cfg.gamma ** bisect.bisect_right(sorted(cfg.milestones), unit(s)),
        "plateau": lambda s: plateau.scale if plateau is not None else 1.0,
    }
    shape = shapes[cfg.schedule]
    if cfg.schedule == "onecycle" or cfg.warmup_steps <= 0:
        return shape

    def warmed(step: int) -> float:  # linear from 1% of the rate, as in Goyal et al. 2017
        ramp = 0.01 + 0.99 * min(1.0, step / cfg.warmup_steps)
        return ramp * shape(step)

    return warmed


def make_scheduler(optimizer: torch.optim.Optimizer, cfg: TrainConfig, total_steps: int,
                   steps_per_epoch: int = 1,
                   plateau: Plateau | None = None) -> torch.optim.lr_scheduler.LRScheduler:
    """A per-step schedule (call ``step()`` after every optimizer step): LambdaLR following
    ``lr_factor``, or torch's OneCycleLR with linear ramps for ``onecycle-linear``."""
    if cfg.schedule == "onecycle-linear":
        return torch.optim.lr_scheduler.OneCycleLR(
            optimizer, max_lr=cfg.lr, total_steps=total_steps, pct_start=cfg.warmup_fraction,
            anneal_strategy="linear")
    factor = lr_factor(cfg, total_steps, steps_per_epoch, plateau)
    return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)


def logged_lr(scheduler: torch.optim.lr_scheduler.LRScheduler, last_step_lr: float) -> float:
    """The learning rate a metrics row shows: the one the next step uses, but for OneCycleLR
    the one of the epoch's last step (after the final step its next value is an extrapolation
    below zero)."""
    if isinstance(scheduler, torch.optim.lr_scheduler.OneCycleLR):
        return last_step_lr
    return scheduler.optimizer.param_groups[0]["lr"]
