"""The typed training config; the resolved config (every default explicit) is saved per run."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from cnnlab.errors import CnnlabError


@dataclass
class TrainConfig:
    """Everything a training run depends on. Defaults: the Fashion-MNIST skeleton recipe."""

    model: str = "smallcnn"  # registry name
    model_options: dict[str, Any] = field(default_factory=dict)  # builder keyword options
    dataset: str = "fashion-mnist"
    data_dir: str | None = None  # None: $CNNLAB_DATA, the system copy, then the cache
    epochs: int = 5
    batch_size: int = 128
    lr: float = 0.1  # peak learning rate of the one-cycle schedule
    momentum: float = 0.9
    nesterov: bool = True
    weight_decay: float = 5e-4  # on conv and FC weights; BN and biases are exempt (see below)
    decay_bn_and_bias: bool = False  # decaying BN scales/shifts only shrinks them, no regularity
    schedule: str = "onecycle"  # "onecycle", "cosine" or "constant"
    warmup_fraction: float = 0.2  # share of steps spent rising to the peak (onecycle)
    label_smoothing: float = 0.0
    hflip: bool = True  # random horizontal flips: garments are left-right symmetric
    seed: int = 0
    device: str = "auto"  # "auto" picks CUDA when present, else CPU
    channels_last: bool = True  # the fast memory layout for conv on CPU and GPU
    threads: int = 0  # torch intra-op threads on CPU; 0 keeps torch's default
    train_subset: int | None = None  # first N training images (tests, quick looks)
    test_subset: int | None = None  # first N test images
    eval_batch_size: int = 1000
    out: str | None = None  # run folder; None: runs/<model>-<timestamp>
    quiet: bool = False  # no progress bar or summary table

    def validate(self) -> TrainConfig:
        """Raise CnnlabError naming the first invalid field."""
        checks = [
            (self.epochs >= 1, f"--epochs must be >= 1, got {self.epochs}"),
            (self.batch_size >= 1, f"--batch-size must be >= 1, got {self.batch_size}"),
            (self.lr > 0, f"--lr must be > 0, got {self.lr}"),
            (0 <= self.momentum < 1, f"momentum must be in [0, 1), got {self.momentum}"),
            (self.weight_decay >= 0, f"weight decay must be >= 0, got {self.weight_decay}"),
            (self.schedule in ("onecycle", "cosine", "constant"),
             f"unknown schedule {self.schedule!r}: use onecycle, cosine or constant"),
            (0 <= self.label_smoothing < 1, "label smoothing must be in [0, 1)"),
            (0 < self.warmup_fraction < 1, "warmup fraction must be in (0, 1)"),
            (self.device in ("auto", "cpu") or self.device.startswith("cuda"),
             f"unknown device {self.device!r}: use auto, cpu or cuda[:N]"),
            (self.train_subset is None or self.train_subset >= 1, "train subset must be >= 1"),
            (self.test_subset is None or self.test_subset >= 1, "test subset must be >= 1"),
        ]
        for ok, message in checks:
            if not ok:
                raise CnnlabError(message)
        return self

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict of every field."""
        return dataclasses.asdict(self)
