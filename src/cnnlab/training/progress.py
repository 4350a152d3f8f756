"""The rich progress bar and end-of-run summary table of ``cnnlab train``.

The bar is drawn only on a terminal (``cnnlab.console``); in a log each epoch still gets its line.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Self

from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from cnnlab.console import make_console, progress_enabled


class TrainProgress:
    """Progress over all epochs with running loss, accuracy and images/s."""

    def __init__(self, epochs: int, images_per_epoch: int, quiet: bool = False) -> None:
        self.console = make_console(stderr=True)
        self.quiet = quiet
        self.epochs = epochs
        self.progress = Progress(
            TextColumn("epoch {task.fields[epoch]}/{task.fields[epochs]}"), BarColumn(),
            TextColumn("loss {task.fields[loss]:.4f}  acc {task.fields[acc]:.2%}  "
                       "{task.fields[ips]:,.0f} img/s"),
            TimeElapsedColumn(), console=self.console,
            disable=quiet or not progress_enabled(), transient=False)
        self.total = images_per_epoch
        self._reset(1)

    def _reset(self, epoch: int) -> None:
        self.seen, self.loss_sum, self.correct, self.start = 0, 0.0, 0, time.perf_counter()
        self.epoch = epoch

    def __enter__(self) -> Self:
        self.progress.__enter__()
        self.task = self.progress.add_task("train", total=self.total, epoch=1,
                                           epochs=self.epochs, loss=0.0, acc=0.0, ips=0.0)
        return self

    def __exit__(self, *exc) -> None:
        self.progress.__exit__(*exc)

    def begin(self, epoch: int) -> None:
        """Start counting at ``epoch`` (a resumed run does not start at 1)."""
        self._reset(epoch)
        self.progress.update(self.task, epoch=epoch)

    def advance(self, images: int, loss: float, correct: int) -> None:
        self.seen += images
        self.loss_sum += loss * images
        self.correct += correct
        elapsed = max(1e-9, time.perf_counter() - self.start)
        self.progress.update(self.task, advance=images, loss=self.loss_sum / self.seen,
                             acc=self.correct / self.seen, ips=self.seen / elapsed)

    def epoch_done(self, row: dict) -> None:
        if not self.quiet:
            score = (f"test loss {row['test_loss']:.4f} acc {row['test_acc']:.2%}"
                     if "test_acc" in row else "not evaluated")
            self.progress.console.print(
                f"epoch {row['epoch']}: train loss {row['train_loss']:.4f} acc "
                f"{row['train_acc']:.2%} | {score} | {row['seconds']:.1f}s, "
                f"{row['images_per_s']:,.0f} img/s")
        if row["epoch"] < self.epochs:
            self._reset(row["epoch"] + 1)
            self.progress.reset(self.task, total=self.total)
            self.progress.update(self.task, epoch=self.epoch)

    def summary(self, rows: list[dict], out: Path) -> None:
        table = Table(title=f"Training summary: {out}")
        for column in ("epoch", "train loss", "train acc", "test loss", "test acc", "top-5",
                       "seconds", "img/s"):
            table.add_column(column, justify="right")
        for r in rows:
            scored = "test_acc" in r  # rows of epochs without an evaluation leave them blank
            table.add_row(str(r["epoch"]), f"{r['train_loss']:.4f}", f"{r['train_acc']:.2%}",
                          f"{r['test_loss']:.4f}" if scored else "",
                          f"{r['test_acc']:.2%}" if scored else "",
                          f"{r['test_top5']:.2%}" if scored else "", f"{r['seconds']:.1f}",
                          f"{r['images_per_s']:,.0f}")
        make_console().print(table)
