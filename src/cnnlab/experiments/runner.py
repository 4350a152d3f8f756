"""Run an experiment: train each arm once per seed through the one trainer, then report.

  <out>/experiment.json         name, scale, seeds (a rerun must ask for the same)
  <out>/data/                   the synthetic dataset (tiny scale only)
  <out>/runs/<arm>-seed<N>/     an ordinary run folder per model (`cnnlab evaluate` opens it)
                                plus experiment-done.json once the model is finished
  <out>/report.md, results.json, figure.png

Resumable: a rerun skips finished models, resumes the one that was training from its newest
saved state (the trainer saves one every epoch) and trains the rest.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable
from pathlib import Path

from cnnlab.data import load_dataset
from cnnlab.data.synthetic import write_fashion_mnist_like
from cnnlab.errors import CnnlabError
from cnnlab.experiments.base import SCALES, Arm, Context, Experiment, Trained
from cnnlab.experiments.registry import get_experiment
from cnnlab.experiments.report import write_report
from cnnlab.experiments.scales import TINY_TEST, TINY_TRAIN
from cnnlab.fileio import LOCK_NAME, run_lock, write_json
from cnnlab.runs import load_checkpoint
from cnnlab.training.config import TrainConfig
from cnnlab.training.state import list_states
from cnnlab.training.trainer import train

DONE = "experiment-done.json"
Log = Callable[[str], None]


def run_experiment(name: str, scale: str = "quick", seeds: int | None = None,
                   device: str = "auto", out: str | Path | None = None,
                   data_dir: str | None = None, threads: int = 0, log: Log = print,
                   after_model: Callable[[int], None] | None = None,
                   show_training: bool = False) -> Path:
    """Train what experiment ``name`` needs at ``scale`` and write its report folder.

    ``seeds``: models per arm (default: the scale's); ``threads``: torch CPU threads (0: the
    scale's, else torch's default; 1 is fastest when other jobs share the cores);
    ``after_model(i)`` is called after the i-th model (1-based) is finished;
    ``show_training``: the trainer's own progress bar and epoch lines for each model. Returns
    the report folder.
    """
    experiment = get_experiment(name)
    if scale not in SCALES:
        raise CnnlabError(f"unknown scale {scale!r}: use {', '.join(SCALES)}")
    plan = experiment.scales[scale]
    seeds = plan.seeds if seeds is None else seeds
    if seeds < 1:
        raise CnnlabError(f"--seeds must be >= 1, got {seeds}")
    folder = Path(out or f"experiments/{name}-{scale}")
    if plan.data is None:  # the real dataset: when it is missing, say so before writing anything
        load_dataset(plan.train["dataset"], "test", data_dir)
    # One writer per experiment folder for the whole run, as for a training run.
    with run_lock(folder, "cnnlab experiment"):
        open_output(folder, experiment, scale, seeds)
        _run_locked(experiment, scale, seeds, folder, device, data_dir, threads, log,
                    after_model, show_training)
    log(f"report: {folder / 'report.md'}")
    return folder


def _run_locked(experiment: Experiment, scale: str, seeds: int, folder: Path, device: str,
                data_dir: str | None, threads: int, log: Log,
                after_model: Callable[[int], None] | None, show_training: bool) -> None:
    plan = experiment.scales[scale]
    base = base_config(experiment, scale, folder, device, data_dir, threads)
    base.quiet = not show_training
    jobs = [(arm, seed) for seed in range(seeds) for arm in experiment.arms(plan)]
    start, trained = time.perf_counter(), []
    for i, (arm, seed) in enumerate(jobs, 1):
        trained.append(train_arm(base, arm, seed, folder, f"[{i}/{len(jobs)}]", log))
        if after_model is not None:
            after_model(i)
    context = Context(experiment, scale, plan, trained, folder)
    write_report(context, experiment.analyze(context), time.perf_counter() - start)


def base_config(experiment: Experiment, scale: str, folder: Path, device: str = "auto",
                data_dir: str | None = None, threads: int = 0) -> TrainConfig:
    """The TrainConfig every arm of ``experiment`` at ``scale`` starts from (see arm_config)."""
    plan = experiment.scales[scale]
    base = TrainConfig().replace(plan.train, source=f"{experiment.name} {scale}")
    base = base.replace({"device": device, "data_dir": _data_dir(folder, plan.data, data_dir)})
    if threads:
        base.threads = threads
    return base


def arm_config(base: TrainConfig, arm: Arm, seed: int, folder: Path) -> TrainConfig:
    """The resolved config one model of the experiment trains with (saved in its run folder)."""
    return base.replace({**arm.train, "model": arm.model, "model_options": dict(arm.options),
                         "seed": seed, "out": str(folder / "runs" / f"{arm.key}-seed{seed}")})


def open_output(folder: Path, experiment: Experiment, scale: str, seeds: int) -> Path:
    """The experiment's output folder: created, or checked to hold the same experiment.

    The one place an experiment's folder is opened, so that a lock can wrap it.
    """
    plan = experiment.scales[scale]
    identity = {"experiment": experiment.name, "scale": scale, "seeds": seeds,
                "setup": {"train": plan.train, "arms": plan.arms}}
    marker = folder / "experiment.json"
    if marker.is_file():
        saved = json.loads(marker.read_text(encoding="utf-8"))
        if {k: saved.get(k) for k in identity} != identity:
            raise CnnlabError(f"{folder} holds {saved.get('experiment')} at scale "
                              f"{saved.get('scale')} with {saved.get('seeds')} seeds (or other "
                              "settings); choose another --out, or the same to resume")
    elif folder.exists() and any(p.name != LOCK_NAME for p in folder.iterdir()):
        raise CnnlabError(f"{folder} exists and is not an experiment folder; choose another --out")
    else:
        folder.mkdir(parents=True, exist_ok=True)
        write_json(marker, identity)
    return folder


def _data_dir(folder: Path, data: str | None, data_dir: str | None) -> str | None:
    if data != "synthetic":
        return data_dir
    target = folder / "data"
    if not (target / "t10k-labels-idx1-ubyte.gz").is_file():
        write_fashion_mnist_like(target, train=TINY_TRAIN, test=TINY_TEST)
    return str(target)


def train_arm(base: TrainConfig, arm: Arm, seed: int, folder: Path, prefix: str,
              log: Log) -> Trained:
    """One model: skipped when finished, resumed when interrupted, else trained."""
    cfg = arm_config(base, arm, seed, folder)
    run = Path(cfg.out)
    if (run / DONE).is_file():
        log(f"{prefix} {arm.label}, seed {seed}: finished before, skipped")
        return _read_done(arm, seed, run)
    resume = bool(list_states(run))
    if run.exists() and not resume:
        shutil.rmtree(run)  # ours, interrupted before its first saved state: start it again
    log(f"{prefix} {'resuming' if resume else 'training'} {arm.label}, seed {seed} "
        f"({cfg.model} {arm.options or ''})".rstrip())
    result = train(cfg, resume=resume)
    model, _ = load_checkpoint(run)
    done = {"arm": arm.key, "seed": seed, "rows": result.rows,
            "params": sum(p.numel() for p in model.parameters()),
            "seconds": result.train_seconds,
            "cpu_seconds": sum(r.get("cpu_seconds", 0.0) for r in result.rows),
            "steps_per_epoch": _steps_per_epoch(cfg, result.rows)}
    write_json(run / DONE, done)
    return _read_done(arm, seed, run)


def _steps_per_epoch(cfg: TrainConfig, rows: list[dict]) -> int:
    newest = list_states(cfg.out)[-1].name  # step-N: the global step after the last epoch
    return int(newest.removeprefix("step-")) // max(1, len(rows))


def _read_done(arm: Arm, seed: int, run: Path) -> Trained:
    done = json.loads((run / DONE).read_text(encoding="utf-8"))
    return Trained(arm, seed, run, done["rows"], done["params"], done["seconds"],
                   done["cpu_seconds"], done["steps_per_epoch"])
