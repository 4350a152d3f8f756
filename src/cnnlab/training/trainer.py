"""A training run end to end: data, model, the one training loop, and the run folder.

  <out>/config.json                     resolved config (every default explicit)
  <out>/metrics.csv                     one row per epoch
  <out>/curves.png                      loss and accuracy per evaluated epoch
  <out>/checkpoint.safetensors + .json  weights and what is needed to use them
  <out>/ema.safetensors + .json         the EMA weights (when ema_decay is set)
  <out>/state/step-N/                   what resume needs (see cnnlab.training.state)
  <out>/.cnnlab-lock                    the writer lock, held for the whole run

One writer per run folder, no silent overwrite, write failures: ``cnnlab.training.runfolder``.
SIGINT / SIGTERM stop after the current step with its state saved
(``cnnlab.training.interrupts``; single-process runs). Under torchrun every process runs
this; only rank 0 writes files and prints. Recipes differ
only in their TrainConfig (``cnnlab.training.recipes``); one optimizer step is
``cnnlab.training.step``, where batches come from is ``cnnlab.training.batches``.
"""

from __future__ import annotations

import contextlib
import math
import os
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

from cnnlab.checkpoint import save_checkpoint, versions
from cnnlab.data import load_dataset
from cnnlab.data.augment import step_generator
from cnnlab.data.folder import FileDataset
from cnnlab.data.loaders import split_holdout
from cnnlab.data.memory import normalize
from cnnlab.device import seed_everything
from cnnlab.errors import CnnlabError, Interrupted, note
from cnnlab.evaluation.metrics import topk_accuracy
from cnnlab.evaluation.predict import ViewSpec, predict
from cnnlab.fileio import write_json
from cnnlab.training import distributed as dist_
from cnnlab.training import runfolder
from cnnlab.training import state as state_
from cnnlab.training.batches import DeviceBatches, make_batches
from cnnlab.training.config import TrainConfig
from cnnlab.training.curves import plot_curves
from cnnlab.training.interrupts import StopSignals, signal_name
from cnnlab.training.lookahead import make_lookahead
from cnnlab.training.model_init import initial_model
from cnnlab.training.progress import TrainProgress
from cnnlab.training.runlog import RunLog, checkpoint_meta
from cnnlab.training.schedule import Plateau, logged_lr, make_optimizer, make_scheduler
from cnnlab.training.step import StepResult, TrainStep

# Fault injection for the resume drills (tests, docs/training.md): the process of rank
# $CNNLAB_FAULT_KILL_RANK (default 0) sends $CNNLAB_FAULT_SIGNAL (default SIGKILL) after global
# step $CNNLAB_FAULT_KILL_AT_STEP, on a first attempt only (torchrun restarts are spared), to
# itself, or with CNNLAB_FAULT_TARGET=parent to its parent (torchrun's agent, as a user would).
KILL_AT_STEP_ENV, KILL_RANK_ENV = "CNNLAB_FAULT_KILL_AT_STEP", "CNNLAB_FAULT_KILL_RANK"
SIGNAL_ENV, TARGET_ENV = "CNNLAB_FAULT_SIGNAL", "CNNLAB_FAULT_TARGET"


@dataclass
class RunResult:
    """Where the run went and how it ended."""

    out: Path
    rows: list[dict[str, float]]
    train_seconds: float


def _configure_backends(cfg: TrainConfig) -> None:
    torch.backends.cudnn.benchmark = cfg.cudnn_benchmark and not cfg.deterministic
    if cfg.deterministic:
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
        torch.backends.cudnn.deterministic = True
        torch.use_deterministic_algorithms(True, warn_only=True)


def _shared_default_out(cfg: TrainConfig, ctx: dist_.DistContext) -> Path:
    """runs/<model>-<time>, created by rank 0 so every process writes the same folder."""
    chosen = [str(runfolder.default_out(cfg.model)) if ctx.main else ""]
    if ctx.enabled:
        torch.distributed.broadcast_object_list(chosen, src=0)
    return Path(chosen[0])


def _maybe_fault(global_step: int, ctx: dist_.DistContext) -> None:
    target = os.environ.get(KILL_AT_STEP_ENV)
    if (target and int(target) == global_step and ctx.restart == 0
            and ctx.rank == int(os.environ.get(KILL_RANK_ENV, "0"))):
        pid = os.getppid() if os.environ.get(TARGET_ENV) == "parent" else os.getpid()
        os.kill(pid, signal.Signals[os.environ.get(SIGNAL_ENV, "SIGKILL")])


def _load_data(cfg: TrainConfig):
    train = load_dataset(cfg.dataset, "train", cfg.data_dir)
    test = load_dataset(cfg.dataset, "test", cfg.data_dir).subset(cfg.test_subset)
    train, val = split_holdout(train, cfg.holdout)
    train = train.subset(cfg.train_subset)
    if isinstance(train, FileDataset):
        train = train.with_transform(None, cfg.skip_bad_files)
        test = test.with_transform(None, cfg.skip_bad_files)
        val = val.with_transform(None, cfg.skip_bad_files) if val is not None else None
    return train, val, test


class Run:
    """Model, optimizer, schedule, EMA, data and counters of one process of a run."""

    def __init__(self, cfg: TrainConfig, ctx: dist_.DistContext, out: Path,
                 stop: StopSignals | None = None) -> None:
        self.cfg, self.ctx, self.out, self.stop = cfg, ctx, out, stop
        if cfg.threads:
            torch.set_num_threads(cfg.threads)
        seed_everything(cfg.seed)  # the same initial weights on every rank
        self.train_set, self.val_set, self.test_set = _load_data(cfg)
        self.batches = make_batches(cfg, self.train_set, ctx)
        self.in_memory = isinstance(self.batches, DeviceBatches)
        self._inputs: torch.Tensor | None = None  # the last file batch, reused by the next
        self.steps_per_epoch = self.batches.steps_per_epoch
        self.total_steps = cfg.max_steps or cfg.epochs * self.steps_per_epoch
        self.epochs = math.ceil(self.total_steps / self.steps_per_epoch)
        self._build_model()
        self.plateau = Plateau(cfg.plateau_patience, cfg.gamma) if cfg.schedule == "plateau" \
            else None
        self.optimizer = make_optimizer(self.raw_model, cfg)
        self.scheduler = make_scheduler(self.optimizer, cfg, self.total_steps,
                                        self.steps_per_epoch, self.plateau)
        self.lookahead = make_lookahead(self.raw_model, cfg.lookahead_every, self.total_steps)
        self.step_fn = TrainStep(self.model, self.optimizer, self.scheduler, cfg, ctx,
                                 len(self.train_set.classes), self.ema, self.raw_model,
                                 self.lookahead)
        # Each rank draws its own dropout masks; seeding after init keeps init identical.
        torch.manual_seed(cfg.seed * 1_000 + ctx.rank + 1)
        self.rows: list[dict[str, Any]] = []
        self.progress = {"epoch": 1, "step": 0, "global_step": 0, "bad_streak": 0,
                         "skipped_steps": 0, "loss_sum": 0.0, "correct": 0, "seen": 0,
                         "seconds": 0.0, "cpu_seconds": 0.0}
        self.skipped_files: list[str] = []
        self.step_rows: list[list[float]] = []  # [global step, loss, hits, images]

    def _build_model(self) -> None:
        cfg, ctx = self.cfg, self.ctx
        model = initial_model(cfg, self.train_set, ctx.device)
        if cfg.sync_bn and ctx.enabled and ctx.device.type == "cuda":
            model = nn.SyncBatchNorm.convert_sync_batchnorm(model)
        self.raw_model = model
        self.ema = None
        if cfg.ema_decay is not None:
            self.ema = AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(cfg.ema_decay),
                                     use_buffers=True)
        wrapped: nn.Module = model
        if ctx.enabled:
            ids = [ctx.device.index] if ctx.device.type == "cuda" else None
            wrapped = nn.parallel.DistributedDataParallel(model, device_ids=ids)
        self.model = torch.compile(wrapped) if cfg.compile else wrapped

    # --- resumable state -------------------------------------------------------------------
    def state_tree(self) -> dict[str, Any]:
        return {"model": self.raw_model.state_dict(), "optimizer": self.optimizer.state_dict(),
                "scheduler": self.scheduler.state_dict(),
                "plateau": self.plateau.state_dict() if self.plateau else None,
                "ema": self.ema.state_dict() if self.ema is not None else None,
                "lookahead": self.lookahead.state_dict() if self.lookahead else None,
                "scaler": self.step_fn.scaler.state_dict(), "progress": dict(self.progress),
                "rows": self.rows, "steps": self.step_rows, "skipped_files": self.skipped_files,
                "world": self.ctx.world,
                "batches": self.batches.state_dict() if self.in_memory else None}

    def save_state(self) -> None:
        """Every rank's RNG states go to rank 0, which alone writes the state folder."""
        step = self.progress["global_step"]
        rngs = dist_.gather_to_main(state_.rng_states(), self.ctx)
        dist_.on_main(self.ctx, lambda: self._publish_state(step, rngs))

    def _publish_state(self, step: int, rngs: list[dict[str, Any]] | None) -> None:
        try:
            state_.publish_state(self.out, step, self.state_tree(), rngs or [],
                                 self.cfg.keep_checkpoints)
        except OSError:
            state_.discard_staging(self.out, step)
            raise

    def restore(self) -> Path:
        """Load the newest complete state of the run folder into this process; returns it."""
        folder = state_.list_states(self.out)[-1]
        tree, rng = state_.load_state(folder, self.ctx.rank)
        if tree["world"] != self.ctx.world:
            raise CnnlabError(f"{folder}: saved by {tree['world']} processes, resumed with "
                              f"{self.ctx.world}; use the same number")
        self.raw_model.load_state_dict(tree["model"])
        self.optimizer.load_state_dict(tree["optimizer"])
        state_.match_layouts(self.optimizer)
        self.scheduler.load_state_dict(tree["scheduler"])
        if self.plateau is not None:
            self.plateau.load_state_dict(tree["plateau"])
        if self.ema is not None:
            self.ema.load_state_dict(tree["ema"])
        if self.lookahead is not None:
            self.lookahead.load_state_dict(tree["lookahead"])
        self.step_fn.scaler.load_state_dict(tree["scaler"])
        self.progress, self.rows = dict(tree["progress"]), list(tree["rows"])
        self.skipped_files = list(tree["skipped_files"])
        self.step_rows = list(tree.get("steps") or [])
        if self.in_memory:
            self.batches.load_state_dict(tree["batches"])
        state_.set_rng_states(rng)
        return folder

    # --- the loop ----------------------------------------------------------------------------
    def fit(self, after_step: Callable[[int, dist_.DistContext], None]) -> list[dict[str, Any]]:
        log = RunLog(self.out, self.cfg.tensorboard) if self.ctx.main else None
        quiet = self.cfg.quiet or not self.ctx.main
        per_epoch = self.steps_per_epoch * self.batches.global_n
        if self.stop is not None:
            self.stop.deferring = True
        try:
            with TrainProgress(self.epochs, per_epoch, quiet=quiet) as bar:
                bar.begin(self.progress["epoch"])
                while self.progress["global_step"] < self.total_steps:
                    self._check_stop()
                    self._train_epoch(bar, after_step)
                    self._end_epoch(bar, log)
            if log is not None and not quiet:
                bar.summary(self.rows, self.out)
        finally:
            if log is not None:
                log.close()
        return self.rows

    def _train_epoch(self, bar: TrainProgress, after_step: Callable) -> None:
        p, cfg = self.progress, self.cfg
        self.model.train()
        if cfg.freeze_bn:
            for module in self.model.modules():
                if isinstance(module, nn.modules.batchnorm._BatchNorm):
                    module.eval()
        last = min(self.steps_per_epoch, p["step"] + self.total_steps - p["global_step"])
        start, cpu_start = time.perf_counter(), time.process_time()
        for step, batch in self.batches.epoch(p["epoch"], p["step"]):
            if step >= last:
                break
            self.skipped_files += batch.bad_files
            result = self._step(batch, step)
            p["step"], p["global_step"] = step + 1, p["global_step"] + 1
            p["loss_sum"] += result.loss * result.images
            p["correct"] += result.correct
            p["seen"] += result.images
            if cfg.log_steps:
                self.step_rows.append([p["global_step"], result.loss, result.correct,
                                       result.images])
            bar.advance(result.images * self.ctx.world, result.loss, result.correct)
            if cfg.checkpoint_every and p["global_step"] % cfg.checkpoint_every == 0 \
                    and p["step"] < last:
                self._add_time(start, cpu_start)
                self.save_state()
                start, cpu_start = time.perf_counter(), time.process_time()
            after_step(p["global_step"], self.ctx)
            signum = self._stop_signal()
            if signum is not None:
                self._add_time(start, cpu_start)
                self._stop_at(signum)
        if self.ctx.device.type == "cuda":  # the epoch's time includes its queued kernels
            torch.cuda.synchronize(self.ctx.device)
        self._add_time(start, cpu_start)

    def _stop_signal(self) -> int | None:
        """The signal some rank received, agreed on by all (a collective under torchrun, so
        every rank stops after the same step)."""
        return None if self.stop is None else dist_.agreed_signal(self.stop.received, self.ctx)

    def _check_stop(self) -> None:
        signum = self._stop_signal()
        if signum is not None:
            self._stop_at(signum)

    def _stop_at(self, signum: int) -> None:
        """Save the state at this step (unless saved) and stop; only rank 0 says so."""
        p = self.progress
        if dist_.any_rank(not state_.state_path(self.out, p["global_step"]).is_dir(), self.ctx):
            self.save_state()
        if not self.ctx.main:
            raise Interrupted(signum, "")
        where = ("before the first step" if p["global_step"] == 0 else
                 f"after epoch {p['epoch'] - 1}" if p["step"] == 0 else
                 f"in epoch {p['epoch']} after step {p['step']} of {self.steps_per_epoch}")
        raise Interrupted(signum, f"stopped by {signal_name(signum)} {where} (global step "
                                  f"{p['global_step']} of {self.total_steps}); state saved in "
                                  f"{state_.state_path(self.out, p['global_step'])}; resume "
                                  f"with: {_resume_command(self.out, self.ctx)}")

    def _add_time(self, start: float, cpu_start: float) -> None:
        # CPU seconds of this process: the fair clock when other jobs share the cores.
        self.progress["seconds"] += time.perf_counter() - start
        self.progress["cpu_seconds"] = (self.progress.get("cpu_seconds", 0.0)
                                        + time.process_time() - cpu_start)

    def _step(self, batch, step: int) -> StepResult:
        p, cfg = self.progress, self.cfg
        if batch.labels.numel() == 0:
            raise CnnlabError(f"step {p['global_step'] + 1}: every image of the batch was "
                              "skipped as undecodable")
        x = batch.images  # in_memory: already normalized, on the device
        if not self.in_memory:
            x = normalize(x.to(self.ctx.device, non_blocking=True), self.train_set.mean,
                          self.train_set.std, cfg.channels_last, out=self._inputs)
            self._inputs = x  # no step keeps its inputs: the next batch overwrites them
        y = batch.labels.to(self.ctx.device, non_blocking=True)
        mix_seed = 0
        if self.step_fn.mixer is not None:
            mix_seed = int(torch.randint(0, 2**62, (1,), generator=step_generator(
                cfg.seed + 17 * self.ctx.rank, p["epoch"], step)))
        result = self.step_fn(x, y, mix_seed)
        if not result.skipped:
            p["bad_streak"] = 0
            return result
        p["bad_streak"] += 1
        p["skipped_steps"] += 1
        if p["bad_streak"] >= cfg.max_bad_steps:
            self._stop_on_bad_loss()
        return result

    def _stop_on_bad_loss(self) -> None:
        p = self.progress
        self.save_state()
        if self.ctx.main:
            self.save_model_files({"epoch": p["epoch"]})
        raise CnnlabError(
            f"loss was NaN or Inf for {p['bad_streak']} steps in a row (global steps "
            f"{p['global_step'] - p['bad_streak'] + 2}-{p['global_step'] + 1}, epoch "
            f"{p['epoch']}); the run stopped. The weights before those steps are in "
            f"{self.out}/checkpoint.safetensors; lower --lr or set grad_clip, then --resume")

    def evaluate(self, model: nn.Module, data) -> tuple[float, float, float]:
        """(mean loss, top-1, top-5) over ``data``, each rank scoring its share."""
        cfg = self.cfg
        indices = torch.arange(len(data))[self.ctx.rank::self.ctx.world]
        spec = ViewSpec(cfg.eval_mode, cfg.image_size, cfg.eval_resize)
        preds = predict(model, data, device=self.ctx.device, batch_size=cfg.eval_batch_size,
                        spec=spec, indices=indices, channels_last=cfg.channels_last,
                        workers=cfg.workers)
        self.skipped_files += preds.bad_files
        count = len(preds.labels)
        # hit counts, so that ranks can sum them (the float32 fractions are exact to far
        # below half an image for any test split size)
        hits = [round(acc * count) for acc in topk_accuracy(preds.log_probs, preds.labels)]
        sums = torch.tensor([F.nll_loss(preds.log_probs, preds.labels, reduction="sum").item(),
                             *hits, count], dtype=torch.float64)
        loss, top1, top5, n = dist_.all_reduce_sum(sums, self.ctx).tolist()
        return loss / n, top1 / n, top5 / n

    def _end_epoch(self, bar: TrainProgress, log: RunLog | None) -> None:
        p, ctx = self.progress, self.ctx
        sums = torch.tensor([p["loss_sum"], p["correct"], p["seen"]], dtype=torch.float64)
        loss_sum, correct, seen = dist_.all_reduce_sum(sums, ctx).tolist()
        row: dict[str, Any] = {
            "epoch": p["epoch"], "lr": logged_lr(self.scheduler, self.step_fn.lr),
            "train_loss": loss_sum / seen, "train_acc": correct / seen}
        if p["epoch"] % self.cfg.eval_every == 0 or p["global_step"] >= self.total_steps:
            self._score(row)
        row.update(seconds=p["seconds"], cpu_seconds=p.get("cpu_seconds", 0.0),
                   images_per_s=seen / max(p["seconds"], 1e-9))
        if p["skipped_steps"]:
            row["skipped_steps"] = p["skipped_steps"]
        self._gather_skipped_files(row)
        self.rows.append(row)
        if log is not None:
            bar.epoch_done({**row, "epoch": min(row["epoch"], self.epochs)})
            log.epoch(self.rows)
            log.steps(self.step_rows)
            log.skipped_files(self.skipped_files)
            self.save_model_files(row)
        p.update(epoch=p["epoch"] + 1, step=0, loss_sum=0.0, correct=0, seen=0, seconds=0.0,
                 cpu_seconds=0.0)
        self.save_state()

    def _score(self, row: dict[str, Any]) -> None:
        """Test (and validation, EMA) metrics into ``row``; the plateau schedule reads them."""
        row["test_loss"], row["test_acc"], row["test_top5"] = self.evaluate(self.raw_model,
                                                                            self.test_set)
        error = 1 - row["test_acc"]
        if self.val_set is not None:
            row["val_loss"], val_acc, _ = self.evaluate(self.raw_model, self.val_set)
            row["val_acc"], error = val_acc, 1 - val_acc
        if self.ema is not None:
            row["ema_test_acc"] = self.evaluate(self.ema.module, self.test_set)[1]
        if self.plateau is not None:
            self.plateau.update(error)

    def save_model_files(self, row: dict) -> None:
        """checkpoint.safetensors (+ ema.safetensors) with their JSON sidecars (main rank)."""
        meta = checkpoint_meta(self.cfg, self.raw_model, self.train_set, row)
        save_checkpoint(self.out, self.raw_model, meta)
        if self.ema is not None:
            save_checkpoint(self.out, self.ema.module, {**meta, "weights": "ema"}, stem="ema")

    def _gather_skipped_files(self, row: dict[str, Any]) -> None:
        files = self.skipped_files
        if self.ctx.enabled:
            gathered: list[list[str]] = [[] for _ in range(self.ctx.world)]
            torch.distributed.all_gather_object(gathered, files)
            files = sorted({f for part in gathered for f in part})
        if files:
            row["skipped_files"] = len(set(files))
            if self.ctx.main and not self.cfg.quiet:
                print(f"skipped {len(set(files))} undecodable image file(s); "
                      f"list in {self.out / 'skipped_files.txt'}")
        self.skipped_files = files


def train(cfg: TrainConfig, resume: bool = False) -> RunResult:
    """Run the training described by ``cfg`` and write the run folder.

    ``resume=True`` continues from the newest state in ``cfg.out``; a process restarted by
    torchrun (``--max-restarts``) resumes on its own when the run folder has a state. A folder
    that holds a run is refused (CnnlabError) unless ``cfg.overwrite``; one locked by another
    writer too. SIGINT / SIGTERM raise ``cnnlab.errors.Interrupted`` after saving the state at
    the current step (under torchrun every rank, after the same step; the main thread).
    """
    cfg.validate()
    ctx = dist_.setup(cfg.device)
    deterministic_before = torch.are_deterministic_algorithms_enabled()
    try:
        _configure_backends(cfg)
        claimed = not cfg.out
        out = Path(cfg.out) if cfg.out else _shared_default_out(cfg, ctx)
        cfg.out = str(out)
        resume = resume or (ctx.restart > 0 and bool(state_.list_states(out)))
        if resume and not state_.list_states(out):
            raise CnnlabError(f"{out}: nothing to resume (no state/step-* folder)")
        stop = StopSignals(lambda signum: _early_stop(signum, out, ctx))
        with contextlib.ExitStack() as held:
            # Rank 0 alone holds the lock; a refusal stops every rank with its message.
            dist_.on_main(ctx, lambda: held.enter_context(runfolder.writing(
                out, resume=resume, overwrite=cfg.overwrite, claimed=claimed)))
            held.enter_context(stop)
            return _run(cfg, ctx, out, resume, stop)
    finally:
        torch.use_deterministic_algorithms(deterministic_before)
        dist_.teardown(ctx)


def _run(cfg: TrainConfig, ctx: dist_.DistContext, out: Path, resume: bool,
         stop: StopSignals | None) -> RunResult:
    run = Run(cfg, ctx, out, stop)
    try:
        if resume:
            folder = run.restore()
            if ctx.main and ctx.restart > 0:  # torchrun restarted the job: say where from
                note(f"resumed from {folder.relative_to(out)} (global step "
                     f"{run.progress['global_step']}, restart {ctx.restart})")
        else:
            dist_.on_main(ctx, lambda: write_json(out / "config.json", {
                **cfg.to_dict(), "device_resolved": str(ctx.device), "world": ctx.world,
                "versions": versions()}))
        rows = run.fit(_maybe_fault)
        if ctx.main:
            plot_curves([r for r in rows if "test_acc" in r], out / "curves.png")
    except OSError as err:
        error = runfolder.write_error(err, out)
        if error is None:
            raise
        raise error from None
    return RunResult(out, rows, sum(r["seconds"] for r in rows))


def _early_stop(signum: int, out: Path, ctx: dist_.DistContext) -> str:
    """The line for a stop without saving (a second signal, or one before the first step);
    empty on ranks other than 0, which say nothing."""
    if not ctx.main:
        return ""
    states = state_.list_states(out)
    kept = (f"the newest complete state is {states[-1]}; resume with: "
            f"{_resume_command(out, ctx)}" if states else "no state was saved")
    return f"stopped by {signal_name(signum)} without saving the current step; {kept}"


def _resume_command(out: Path, ctx: dist_.DistContext) -> str:
    return runfolder.resume_command(out, nproc=ctx.local_world, nodes=ctx.world // ctx.local_world)
