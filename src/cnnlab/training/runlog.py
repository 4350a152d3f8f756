"""What a run writes as it goes: metrics.csv (always), TensorBoard events (when asked), the
skipped-file list, and the model checkpoint's metadata."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

from cnnlab.data import FileDataset, InMemoryDataset
from cnnlab.errors import CnnlabError
from cnnlab.fileio import write_text
from cnnlab.training.config import TrainConfig

METRIC_FIELDS = ["epoch", "lr", "train_loss", "train_acc", "test_loss", "test_acc",
                 "test_top5", "seconds", "images_per_s"]
# Columns that appear only in runs that use the feature (the default run's header is fixed).
# steps.csv (``log_steps``): one row per optimizer step, rank 0's share of the batch.
STEP_FIELDS = ["step", "loss", "correct", "images"]
OPTIONAL_FIELDS = ["val_loss", "val_acc", "ema_test_acc", "skipped_steps", "skipped_files"]


def metrics_csv(rows: list[dict[str, Any]]) -> str:
    """CSV text of the epoch rows: the fixed columns, then the optional ones any row has."""
    fields = METRIC_FIELDS + [f for f in OPTIONAL_FIELDS if any(f in r for r in rows)]
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=fields, lineterminator="\n", restval="")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: (f"{v:.6g}" if isinstance(v, float) else v) for k, v in row.items()
                         if k in fields})
    return buffer.getvalue()


class RunLog:
    """The main process's writer of metrics.csv and (optionally) TensorBoard scalars."""

    def __init__(self, out: Path, tensorboard: bool) -> None:
        self.out = out
        self.writer = None
        if tensorboard:
            try:
                from torch.utils.tensorboard import SummaryWriter
            except ImportError:  # tensorboard is in the dev extra, not in `make demo`'s install
                raise CnnlabError("tensorboard=true needs the tensorboard package: "
                                  "pip install tensorboard (or `make dev`)") from None
            self.writer = SummaryWriter(str(out / "tensorboard"))

    def epoch(self, rows: list[dict[str, Any]]) -> None:
        write_text(self.out / "metrics.csv", metrics_csv(rows))
        if self.writer is not None:
            row = rows[-1]
            for key, value in row.items():
                if key != "epoch" and isinstance(value, int | float):
                    self.writer.add_scalar(key, value, row["epoch"])
            self.writer.flush()

    def steps(self, steps: list[list[float]]) -> None:
        """steps.csv from [global step, loss, top-1 hits, images] rows (when logged)."""
        if steps:
            lines = [",".join(STEP_FIELDS)]
            lines += [f"{int(s)},{loss:.6g},{int(hits)},{int(n)}"
                      for s, loss, hits, n in steps]
            write_text(self.out / "steps.csv", "\n".join(lines) + "\n")

    def skipped_files(self, paths: list[str]) -> None:
        if paths:
            write_text(self.out / "skipped_files.txt", "\n".join(sorted(set(paths))) + "\n")

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


def read_steps(run: str | Path) -> dict[str, list[float]]:
    """<run>/steps.csv as columns (STEP_FIELDS); CnnlabError when the run logged no steps."""
    path = Path(run) / "steps.csv"
    if not path.is_file():
        raise CnnlabError(f"{path} is missing: train with log_steps=true to log every step")
    with open(path, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    return {name: [float(row[name]) for row in rows] for name in STEP_FIELDS}


def input_size(data: InMemoryDataset | FileDataset, cfg: TrainConfig) -> list[int]:
    """C x H x W the model was trained on."""
    if isinstance(data, InMemoryDataset):
        return list(data.images.shape[1:])
    size = cfg.image_size or 224
    return [3, size, size]


def checkpoint_meta(cfg: TrainConfig, model: Any, data: InMemoryDataset | FileDataset,
                    row: dict[str, Any]) -> dict[str, Any]:
    """The JSON sidecar of checkpoint.safetensors (the skeleton's keys, plus eval settings)."""
    return {
        "model": cfg.model,
        "model_args": {"num_classes": model.num_classes, "in_channels": model.in_channels,
                       **cfg.model_options},
        "dataset": data.name,
        "classes": data.classes,
        "input_size": input_size(data, cfg),
        "normalization": {"mean": list(data.mean), "std": list(data.std)},
        "metrics": {k: row[k] for k in ("epoch", "test_acc", "test_top5", "test_loss")
                    if k in row},
        "recipe": cfg.recipe,
        "data_dir": cfg.data_dir,
        "eval": {"size": cfg.image_size, "resize": cfg.eval_resize, "mode": cfg.eval_mode},
        "holdout": cfg.holdout,
    }
