"""A training run end to end: data, model, loop, and the run folder.

  <out>/config.json                     resolved config (every default explicit)
  <out>/metrics.csv                     one row per epoch
  <out>/curves.png                      loss and accuracy per epoch
  <out>/checkpoint.safetensors + .json  weights and what is needed to use them
"""

from __future__ import annotations

import csv
import io
import random
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from cnnlab.checkpoint import save_checkpoint, versions
from cnnlab.data import TensorDataset, load_dataset
from cnnlab.evaluation.metrics import topk_accuracy
from cnnlab.fileio import write_json, write_text
from cnnlab.models import get_model
from cnnlab.training.config import TrainConfig
from cnnlab.training.curves import plot_curves
from cnnlab.training.loop import predict_logits, train_one_epoch
from cnnlab.training.progress import TrainProgress
from cnnlab.training.schedule import make_optimizer, make_scheduler

METRIC_FIELDS = ["epoch", "lr", "train_loss", "train_acc", "test_loss", "test_acc",
                 "test_top5", "seconds", "images_per_s"]


@dataclass
class RunResult:
    """Where the run went and how it ended."""

    out: Path
    rows: list[dict[str, float]]
    train_seconds: float


def pick_device(name: str) -> torch.device:
    """'auto' -> CUDA when available, else CPU."""
    from cnnlab.errors import CnnlabError

    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise CnnlabError(f"--device {name}: CUDA is not available on this machine")
    return torch.device(name)


def seed_everything(seed: int) -> torch.Generator:
    """Seed python, numpy and torch; return the generator that orders batches."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    return torch.Generator().manual_seed(seed)


def default_out(cfg: TrainConfig) -> Path:
    return Path("runs") / f"{cfg.model}-{time.strftime('%Y%m%d-%H%M%S')}"


def _metrics_csv(rows: list[dict[str, float]]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=METRIC_FIELDS, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: (f"{v:.6g}" if isinstance(v, float) else v) for k, v in row.items()})
    return buffer.getvalue()


def _evaluate(model, test: TensorDataset, cfg: TrainConfig, device) -> tuple[float, float, float]:
    logits = predict_logits(model, test, batch_size=cfg.eval_batch_size, device=device,
                            channels_last=cfg.channels_last)
    loss = torch.nn.functional.cross_entropy(logits, test.labels).item()
    top1, top5 = topk_accuracy(logits, test.labels, ks=(1, 5))
    return loss, top1, top5


def _checkpoint_meta(cfg: TrainConfig, model, data: TensorDataset, row: dict) -> dict:
    return {
        "model": cfg.model,
        "model_args": {"num_classes": model.num_classes, "in_channels": model.in_channels,
                       **cfg.model_options},
        "dataset": data.name,
        "classes": data.classes,
        "input_size": list(data.images.shape[1:]),
        "normalization": {"mean": list(data.mean), "std": list(data.std)},
        "metrics": {k: row[k] for k in ("epoch", "test_acc", "test_top5", "test_loss")},
    }


def train(cfg: TrainConfig) -> RunResult:
    """Run the whole training described by ``cfg`` and write the run folder."""
    cfg.validate()
    out = Path(cfg.out) if cfg.out else default_out(cfg)
    cfg.out = str(out)
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    device = pick_device(cfg.device)
    generator = seed_everything(cfg.seed)
    train_set = load_dataset(cfg.dataset, "train", cfg.data_dir).subset(cfg.train_subset)
    test_set = load_dataset(cfg.dataset, "test", cfg.data_dir).subset(cfg.test_subset)
    model = get_model(cfg.model, num_classes=len(train_set.classes),
                      in_channels=train_set.images.shape[1], **cfg.model_options).to(device)
    if cfg.channels_last:
        model = model.to(memory_format=torch.channels_last)
    steps_per_epoch = max(1, len(train_set) // cfg.batch_size)
    optimizer = make_optimizer(model, cfg)
    scheduler = make_scheduler(optimizer, cfg, cfg.epochs * steps_per_epoch)
    write_json(out / "config.json", {**cfg.to_dict(), "device_resolved": str(device),
                                     "versions": versions()})
    rows: list[dict[str, float]] = []
    with TrainProgress(cfg.epochs, steps_per_epoch * cfg.batch_size, quiet=cfg.quiet) as bar:
        for epoch in range(1, cfg.epochs + 1):
            stats = train_one_epoch(
                model, train_set, optimizer, scheduler, batch_size=cfg.batch_size,
                device=device, generator=generator, channels_last=cfg.channels_last,
                hflip=cfg.hflip, label_smoothing=cfg.label_smoothing,
                on_batch=bar.advance)
            test_loss, top1, top5 = _evaluate(model, test_set, cfg, device)
            row = {"epoch": epoch, "lr": optimizer.param_groups[0]["lr"], "train_loss": stats.loss,
                   "train_acc": stats.accuracy, "test_loss": test_loss, "test_acc": top1,
                   "test_top5": top5, "seconds": stats.seconds,
                   "images_per_s": stats.images / stats.seconds}
            rows.append(row)
            bar.epoch_done(row)
            write_text(out / "metrics.csv", _metrics_csv(rows))
            save_checkpoint(out, model, _checkpoint_meta(cfg, model, train_set, row))
    plot_curves(rows, out / "curves.png")
    if not cfg.quiet:
        bar.summary(rows, out)
    return RunResult(out, rows, sum(r["seconds"] for r in rows))
