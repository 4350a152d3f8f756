"""One optimization step: forward (with autocast), loss, NaN/Inf guard, backward, clip, update.

A non-finite loss on any rank skips the step on every rank (the flag is all-reduced before
backward, so DDP's gradient all-reduce is either run by all ranks or by none); the weights and
optimizer state stay as they were.
"""

from __future__ import annotations

import warnings
from contextlib import nullcontext
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from cnnlab.errors import CnnlabError
from cnnlab.training.config import TrainConfig
from cnnlab.training.distributed import DistContext, any_rank
from cnnlab.training.lookahead import Lookahead


@dataclass
class StepResult:
    """Mean loss of this process's batch, its top-1 hits and size; ``skipped`` on NaN/Inf."""

    loss: float
    correct: int
    images: int
    skipped: bool


def autocast_dtype(amp: str, device: torch.device) -> torch.dtype | None:
    """The autocast dtype, or None for fp32. fp16 needs CUDA; bf16 runs on both."""
    if amp == "none":
        return None
    if amp == "fp16" and device.type != "cuda":
        raise CnnlabError("--amp fp16 needs a CUDA device (use bf16 or none on the CPU)")
    return torch.float16 if amp == "fp16" else torch.bfloat16


def split_outputs(output: torch.Tensor | tuple) -> tuple[torch.Tensor, list[torch.Tensor]]:
    """(main logits, auxiliary logits): GoogLeNet-style models return a tuple in training."""
    if isinstance(output, torch.Tensor):
        return output, []
    main, *aux = output
    return main, [a for a in aux if a is not None]


def make_mixer(cfg: TrainConfig, num_classes: int):
    """torchvision's MixUp / CutMix (one picked per batch when both are on), or None."""
    from torchvision.transforms import v2

    mixers = []
    if cfg.mixup_alpha > 0:
        mixers.append(v2.MixUp(alpha=cfg.mixup_alpha, num_classes=num_classes))
    if cfg.cutmix_alpha > 0:
        mixers.append(v2.CutMix(alpha=cfg.cutmix_alpha, num_classes=num_classes))
    if not mixers:
        return None
    return mixers[0] if len(mixers) == 1 else v2.RandomChoice(mixers)


class TrainStep:
    """Callable doing one step on a normalized batch; owns the AMP scaler and the EMA update."""

    def __init__(self, model: nn.Module, optimizer: torch.optim.Optimizer,
                 scheduler: torch.optim.lr_scheduler.LRScheduler, cfg: TrainConfig,
                 ctx: DistContext, num_classes: int, ema: nn.Module | None = None,
                 raw_model: nn.Module | None = None, lookahead: Lookahead | None = None) -> None:
        self.model, self.optimizer, self.scheduler = model, optimizer, scheduler
        self.cfg, self.ctx, self.ema, self.lookahead = cfg, ctx, ema, lookahead
        self.raw_model = raw_model if raw_model is not None else model
        self.dtype = autocast_dtype(cfg.amp, ctx.device)
        self.scaler = torch.amp.GradScaler(
            "cuda", enabled=self.dtype == torch.float16 and ctx.device.type == "cuda")
        self.mixer = make_mixer(cfg, num_classes)
        self.lr = optimizer.param_groups[0]["lr"]  # the rate of the latest step

    def _autocast(self):
        if self.dtype is None:
            return nullcontext()
        return torch.autocast(self.ctx.device.type, dtype=self.dtype)

    def loss(self, output: torch.Tensor | tuple, targets: torch.Tensor) -> torch.Tensor:
        """Cross-entropy of the main head plus ``aux_loss_weight`` x each auxiliary head's."""
        main, aux = split_outputs(output)
        smoothing = self.cfg.label_smoothing
        loss = F.cross_entropy(main.float(), targets, label_smoothing=smoothing)
        for logits in aux:
            loss = loss + self.cfg.aux_loss_weight * F.cross_entropy(
                logits.float(), targets, label_smoothing=smoothing)
        return loss

    def __call__(self, x: torch.Tensor, y: torch.Tensor, mix_seed: int = 0) -> StepResult:
        """x: N x C x H x W float (normalized, on the device); y: N class indices."""
        targets = y
        if self.mixer is not None:
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(mix_seed)
                x, targets = self.mixer(x, y)
        with self._autocast():
            output = self.model(x)
            loss = self.loss(output, targets)
        bad = any_rank(not bool(torch.isfinite(loss.detach())), self.ctx)
        self.optimizer.zero_grad(set_to_none=True)
        if not bad:
            self.scaler.scale(loss).backward()
            if self.cfg.grad_clip is not None:
                self.scaler.unscale_(self.optimizer)
                nn.utils.clip_grad_norm_(self.raw_model.parameters(), self.cfg.grad_clip)
            self.scaler.step(self.optimizer)
            self.scaler.update()
            if self.ema is not None:
                self.ema.update_parameters(self.raw_model)
        if self.lookahead is not None:  # counts skipped steps too: its clock is the schedule's
            self.lookahead.step()
        self.lr = self.optimizer.param_groups[0]["lr"]
        with warnings.catch_warnings():  # a skipped first step warns "scheduler before optimizer"
            warnings.simplefilter("ignore", UserWarning)
            self.scheduler.step()
        main, _ = split_outputs(output)
        correct = int((main.detach().argmax(1) == y).sum())
        return StepResult(float(loss.detach()), correct, int(y.shape[0]), bad)
