"""The typed training config; the resolved config (every default explicit) is saved per run.

Defaults are the Fashion-MNIST skeleton recipe; named recipes (``cnnlab.training.recipes``)
start from other values. Fields are only ever added, never renamed: old run folders' config.json
must still load.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from cnnlab.errors import CnnlabError

# "onecycle-linear" is torch's OneCycleLR with linear ramps: the rate rises from lr/25 over
# warmup_fraction of the steps, then falls to lr/25e4, while momentum cycles 0.95 -> 0.85 -> 0.95
# (the ``momentum`` field is not read); "onecycle" is the LambdaLR shape of schedule.lr_factor.
SCHEDULES = ("onecycle", "onecycle-linear", "cosine", "constant", "step", "multistep",
             "plateau")
OPTIMIZERS = ("sgd", "adamw")
AMP_MODES = ("none", "bf16", "fp16")
# the same as cnnlab.evaluation.crops.CROP_MODES
EVAL_MODES = ("center", "flip", "flipshift", "10crop", "multiscale")


@dataclass
class TrainConfig:
    """Everything a training run depends on. Defaults: the Fashion-MNIST skeleton recipe."""

    model: str = "smallcnn"  # registry name
    model_options: dict[str, Any] = field(default_factory=dict)  # builder keyword options
    weights: str | None = None  # initial weights (.pth/.safetensors); other-sized head is new
    dataset: str = "fashion-mnist"
    data_dir: str | None = None  # None: $CNNLAB_DATA, the system copy, then the cache
    epochs: int = 5
    batch_size: int = 128  # global batch: split over the processes of a distributed run
    lr: float = 0.1  # peak learning rate of the one-cycle schedule
    momentum: float = 0.9
    nesterov: bool = True
    weight_decay: float = 5e-4  # on conv and FC weights; BN and biases are exempt (see below)
    decay_bn_and_bias: bool = False  # decaying BN scales/shifts only shrinks them, no regularity
    schedule: str = "onecycle"  # one of SCHEDULES
    warmup_fraction: float = 0.2  # share of steps spent rising to the peak (onecycle)
    label_smoothing: float = 0.0
    hflip: bool = True  # random horizontal flips: garments are left-right symmetric
    alternate_flip: bool = False  # in_memory: airbench's alternating flips (training.batches)
    seed: int = 0
    device: str = "auto"  # "auto" picks CUDA when present, else CPU
    channels_last: bool = True  # the fast memory layout for conv on CPU and GPU
    threads: int = 0  # torch intra-op threads on CPU; 0 keeps torch's default
    train_subset: int | None = None  # first N training images (tests, quick looks)
    test_subset: int | None = None  # first N test images
    eval_batch_size: int = 1000
    eval_every: int = 1  # test-split evaluation every N epochs and after the last
    out: str | None = None  # run folder; None: runs/<model>-<timestamp>[-N], a new folder
    overwrite: bool = False  # replace a run already in ``out`` (its files are named, then deleted)
    quiet: bool = False  # no progress bar or summary table
    recipe: str = "fashion-mnist"  # the named recipe these values started from
    optimizer: str = "sgd"  # one of OPTIMIZERS
    max_steps: int | None = None  # train for this many iterations (overrides epochs)
    milestones: list[int] = field(default_factory=list)  # multistep: where lr is cut by gamma
    step_size: int = 30  # step schedule: cut lr by gamma every step_size schedule units
    gamma: float = 0.1  # the "divide by 10" of the papers
    schedule_unit: str = "epoch"  # "epoch" or "step": the unit of milestones and step_size
    plateau_patience: int = 2  # plateau: epochs without test-loss improvement before a cut
    warmup_steps: int = 0  # linear warmup from lr/100 (every schedule but onecycle)
    grad_clip: float | None = None  # max global gradient L2 norm
    ema_decay: float | None = None  # exponential moving average of the weights, e.g. 0.999
    lookahead_every: int = 0  # airbench's lookahead every N steps (cnnlab.training.lookahead)
    # fastnet: the stem's filters whiten the training images' patches, frozen (airbench's init;
    # FastNet.whiten_stem), from the first WHITEN_IMAGES in-memory training images
    whiten_stem: bool = False
    augment: list[str] = field(default_factory=list)  # named pieces, see cnnlab.data.augment
    mixup_alpha: float = 0.0  # Beta(alpha, alpha) mixing weight; 0 turns mixup off
    cutmix_alpha: float = 0.0  # same for cutmix; with both on, one is picked per batch
    image_size: int | None = None  # training crop size; None: the stored image size
    eval_resize: int | None = None  # shorter side before the center crop at evaluation
    eval_mode: str = "center"  # one of EVAL_MODES (also `cnnlab evaluate --crops`)
    aux_loss_weight: float = 0.3  # weight of auxiliary classifiers' losses (GoogLeNet)
    amp: str = "none"  # autocast dtype: fp16 needs CUDA, bf16 runs on CUDA and the CPU
    compile: bool = False  # torch.compile the model
    cudnn_benchmark: bool = True  # let cuDNN pick the fastest kernels (off in deterministic)
    deterministic: bool = False  # bit-reproducible: deterministic kernels, no benchmark mode
    workers: int = 0  # decoding worker processes for file datasets (0: in the main process)
    pin_memory: bool = True  # page-locked host batches for non-blocking copies to CUDA
    skip_bad_files: bool = False  # skip undecodable images (counted, reported) instead of stopping
    checkpoint_every: int = 0  # also save resumable state every N steps inside an epoch
    keep_checkpoints: int = 2  # resumable states kept in <run>/state/
    max_bad_steps: int = 5  # NaN/Inf losses in a row before the run stops
    tensorboard: bool = False  # also write TensorBoard event files in <run>/tensorboard
    freeze_bn: bool = False  # BN layers use their running statistics (tiny per-process batches)
    sync_bn: bool = False  # synchronize BN statistics over processes (CUDA only)
    holdout: int = 0  # training images held out as a validation split (ensemble weight tuning)
    # The whole training split on the device as normalized float32: a batch is one index
    # operation, flips and translations are drawn once per epoch as batched tensor operations
    # (in-memory datasets, one process; ``augment`` pieces need the standard batches).
    in_memory: bool = False
    translate: int | None = 0  # in_memory: random shift by up to N pixels; None: recipe's rule
    fused_optimizer: bool = False  # torch's fused optimizer kernel where the device has one
    # also write <out>/steps.csv: every step's loss and top-1 hits (rank 0's share of the
    # batch), for curves finer than an epoch; kept in the resumable state, so it survives resume
    log_steps: bool = False

    def __post_init__(self) -> None:
        # `--set augment=challenges` reads as one string; a string is one piece (or several,
        # comma-separated), never its letters
        if isinstance(self.augment, str):
            self.augment = [part.strip() for part in self.augment.split(",") if part.strip()]

    def validate(self) -> TrainConfig:
        """Raise CnnlabError naming the first invalid field."""
        checks = [
            (self.epochs >= 1, f"--epochs must be >= 1, got {self.epochs}"),
            (self.batch_size >= 1, f"--batch-size must be >= 1, got {self.batch_size}"),
            (self.lr > 0, f"--lr must be > 0, got {self.lr}"),
            (0 <= self.momentum < 1, f"momentum must be in [0, 1), got {self.momentum}"),
            (self.weight_decay >= 0, f"weight decay must be >= 0, got {self.weight_decay}"),
            (self.schedule in SCHEDULES,
             f"unknown schedule {self.schedule!r}: use {', '.join(SCHEDULES)}"),
            (self.optimizer in OPTIMIZERS,
             f"unknown optimizer {self.optimizer!r}: use {', '.join(OPTIMIZERS)}"),
            (self.amp in AMP_MODES, f"unknown amp mode {self.amp!r}: use {', '.join(AMP_MODES)}"),
            (self.eval_mode in EVAL_MODES,
             f"unknown eval mode {self.eval_mode!r}: use {', '.join(EVAL_MODES)}"),
            (self.schedule_unit in ("epoch", "step"), "schedule_unit must be 'epoch' or 'step'"),
            (0 <= self.label_smoothing < 1, "label smoothing must be in [0, 1)"),
            (0 < self.warmup_fraction < 1, "warmup fraction must be in (0, 1)"),
            (0 < self.gamma <= 1, f"gamma must be in (0, 1], got {self.gamma}"),
            (self.ema_decay is None or 0 < self.ema_decay < 1, "EMA decay must be in (0, 1)"),
            (self.lookahead_every >= 0, "lookahead_every must be >= 0 (0: off)"),
            (self.grad_clip is None or self.grad_clip > 0, "gradient clip must be > 0"),
            (self.mixup_alpha >= 0 and self.cutmix_alpha >= 0, "mixup/cutmix alpha must be >= 0"),
            (self.max_steps is None or self.max_steps >= 1, "max steps must be >= 1"),
            (self.keep_checkpoints >= 1, "keep_checkpoints must be >= 1"),
            (self.max_bad_steps >= 1, "max_bad_steps must be >= 1"),
            (self.eval_every >= 1, f"eval_every must be >= 1, got {self.eval_every}"),
            (self.workers >= 0, "workers must be >= 0"),
            (self.translate is None or self.translate >= 0, "translate must be >= 0"),
            (not self.translate or self.in_memory, "translate needs in_memory=true"),
            (self.eval_every == 1 or self.schedule != "plateau",
             "eval_every: the plateau schedule reads every epoch's test score"),
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

    def replace(self, overrides: dict[str, Any], source: str = "override") -> TrainConfig:
        """A copy with ``overrides`` applied; an unknown key is a CnnlabError naming ``source``."""
        names = {f.name for f in dataclasses.fields(self)}
        clean = {key.replace("-", "_"): value for key, value in overrides.items()}
        unknown = sorted(set(clean) - names)
        if unknown:
            raise CnnlabError(f"{source}: unknown config key {unknown[0]!r}")
        return dataclasses.replace(self, **clean)


def read_yaml_overrides(path: str | Path) -> dict[str, Any]:
    """The mapping in a YAML config file (keys are TrainConfig fields, dashes allowed)."""
    path = Path(path)
    data = _read_mapping(path, yaml.safe_load, yaml.YAMLError, f"{path}: no such config file",
                         "invalid YAML")
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise CnnlabError(f"{path}: expected a mapping of config keys, got {type(data).__name__}")
    return data


def load_run_config(run_dir: str | Path) -> TrainConfig:
    """The TrainConfig saved in a run folder's config.json (for --resume)."""
    path = Path(run_dir) / "config.json"
    saved = _read_mapping(path, json.loads, json.JSONDecodeError,
                          f"{run_dir}: not a run folder (config.json is missing)", "corrupt config")
    saved = {k: v for k, v in saved.items() if k not in ("device_resolved", "versions", "world")}
    return TrainConfig().replace(saved, source=str(path))


def _read_mapping(path: Path, parse: Callable[[str], Any], errors: type[Exception],
                  missing: str, problem: str) -> Any:
    """``parse`` of the file's text; a missing or unparsable file is a one-line CnnlabError."""
    if not path.is_file():
        raise CnnlabError(missing)
    try:
        return parse(path.read_text(encoding="utf-8"))
    except errors as err:
        raise CnnlabError(f"{path}: {problem} ({str(err).splitlines()[0]})") from None
