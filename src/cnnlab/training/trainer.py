"""A training run end to end: data, model, loop, and the run folder.

  <out>/config.json                     resolved config (every default explicit)
  <out>/metrics.csv                     one row per epoch
  <out>/curves.png                      loss and accuracy per epoch
  <out>/checkpoint.safetensors + .json  weights and what is needed to use them
  <out>/ema.safetensors + .json         the EMA weights (when ema_decay is set)
  <out>/state/step-N/                   what resume needs (see cnnlab.training.state)

Under torchrun every process runs this; only rank 0 writes files and prints.
"""

from __future__ import annotations

import json
import math
import os
import signal
import time
from dataclasses import dataclass
from pathlib import Path

import torch

from cnnlab.checkpoint import save_checkpoint, versions
from cnnlab.device import pick_device, seed_everything
from cnnlab.errors import CnnlabError
from cnnlab.fileio import write_json
from cnnlab.training import distributed as dist_
from cnnlab.training.config import TrainConfig
from cnnlab.training.curves import plot_curves
from cnnlab.training.runlog import METRIC_FIELDS, checkpoint_meta, metrics_csv
from cnnlab.training.state import list_states

__all__ = ["METRIC_FIELDS", "RunResult", "load_run_config", "metrics_csv", "pick_device",
           "seed_everything", "train"]

# Fault injection for the resume drills (tests, docs/training.md): the process of rank
# $CNNLAB_FAULT_KILL_RANK (default 0) sends itself SIGKILL after global step
# $CNNLAB_FAULT_KILL_AT_STEP, on a first attempt only (torchrun restarts are spared).
KILL_AT_STEP_ENV, KILL_RANK_ENV = "CNNLAB_FAULT_KILL_AT_STEP", "CNNLAB_FAULT_KILL_RANK"


@dataclass
class RunResult:
    """Where the run went and how it ended."""

    out: Path
    rows: list[dict[str, float]]
    train_seconds: float


def default_out(cfg: TrainConfig) -> Path:
    return Path("runs") / f"{cfg.model}-{time.strftime('%Y%m%d-%H%M%S')}"


def load_run_config(run_dir: str | Path) -> TrainConfig:
    """The TrainConfig saved in a run folder's config.json (for --resume)."""
    path = Path(run_dir) / "config.json"
    if not path.is_file():
        raise CnnlabError(f"{run_dir}: not a run folder (config.json is missing)")
    try:
        saved = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise CnnlabError(f"{path}: corrupt config ({err})") from None
    saved = {k: v for k, v in saved.items() if k not in ("device_resolved", "versions", "world")}
    return TrainConfig().replace(saved, source=str(path))


def _configure_backends(cfg: TrainConfig) -> None:
    torch.backends.cudnn.benchmark = cfg.cudnn_benchmark and not cfg.deterministic
    if cfg.deterministic:
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
        torch.backends.cudnn.deterministic = True
        torch.use_deterministic_algorithms(True, warn_only=True)


def _shared_default_out(cfg: TrainConfig, ctx: dist_.DistContext) -> Path:
    """runs/<model>-<time>, decided by rank 0 so every process writes the same folder."""
    chosen = [str(default_out(cfg))]
    if ctx.enabled:
        torch.distributed.broadcast_object_list(chosen, src=0)
    return Path(chosen[0])


def _maybe_fault(global_step: int, ctx: dist_.DistContext) -> None:
    target = os.environ.get(KILL_AT_STEP_ENV)
    if (target and int(target) == global_step and ctx.restart == 0
            and ctx.rank == int(os.environ.get(KILL_RANK_ENV, "0"))):
        os.kill(os.getpid(), signal.SIGKILL)


def train(cfg: TrainConfig, resume: bool = False) -> RunResult:
    """Run the training described by ``cfg`` and write the run folder.

    ``resume=True`` continues from the newest state in ``cfg.out``; a process restarted by
    torchrun (``--max-restarts``) resumes on its own when the run folder has a state.
    """
    from cnnlab.training.run import Run

    cfg.validate()
    if cfg.eval_every != 1:  # the plateau schedule, EMA and checkpoints read every epoch's score
        raise CnnlabError("eval_every: only --recipe fast evaluates less often than every epoch")
    ctx = dist_.setup(cfg.device)
    deterministic_before = torch.are_deterministic_algorithms_enabled()
    try:
        _configure_backends(cfg)
        out = Path(cfg.out) if cfg.out else _shared_default_out(cfg, ctx)
        cfg.out = str(out)
        resume = resume or (ctx.restart > 0 and bool(list_states(out)))
        if resume and not list_states(out):
            raise CnnlabError(f"{out}: nothing to resume (no state/step-* folder)")
        run = Run(cfg, ctx, out)
        if resume:
            run.restore()
        elif ctx.main:
            write_json(out / "config.json", {**cfg.to_dict(), "device_resolved": str(ctx.device),
                                             "world": ctx.world, "versions": versions()})
        rows = run.fit(_maybe_fault)
        if ctx.main:
            plot_curves(rows, out / "curves.png")
        return RunResult(out, rows, sum(r["seconds"] for r in rows))
    finally:
        torch.use_deterministic_algorithms(deterministic_before)
        dist_.teardown(ctx)


def save_model_files(run, row: dict) -> None:
    """checkpoint.safetensors (+ ema.safetensors) with their JSON sidecars (main rank)."""
    meta = checkpoint_meta(run.cfg, run.raw_model, run.train_set, row)
    save_checkpoint(run.out, run.raw_model, meta)
    if run.ema is not None:
        save_checkpoint(run.out, run.ema.module, {**meta, "weights": "ema"}, stem="ema")


def epochs_needed(total_steps: int, steps_per_epoch: int) -> int:
    return math.ceil(total_steps / steps_per_epoch)
