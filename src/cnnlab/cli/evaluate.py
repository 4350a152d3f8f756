"""``cnnlab evaluate``: test-split error, per-class accuracy and a confusion matrix."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from cnnlab.cli.common import console, percent, print_json
from cnnlab.evaluation.confusion import plot_confusion
from cnnlab.evaluation.evaluate import evaluate_run
from cnnlab.fileio import write_json


def evaluate_command(
    run_dir: Annotated[Path, typer.Argument(help="A run folder written by `cnnlab train`.")],
    data_dir: Annotated[str | None, typer.Option(help="Folder with the dataset files.")] = None,
    limit: Annotated[int | None, typer.Option(help="Score only the first N test images.")] = None,
    json_output: Annotated[bool, typer.Option("--json", help="Print JSON only.")] = False,
) -> None:
    """Top-1/top-5 error on the test split, per-class accuracy, confusion.png in RUN_DIR."""
    report = evaluate_run(run_dir, data_dir=data_dir, limit=limit)
    figure = plot_confusion(report.confusion, report.classes, run_dir / "confusion.png")
    write_json(run_dir / "evaluation.json", report.to_dict())
    if json_output:
        print_json({**report.to_dict(), "confusion_png": str(figure)})
        return
    table = Table(title=f"Per-class accuracy ({report.samples:,} test images)")
    table.add_column("class")
    table.add_column("accuracy", justify="right")
    for name, acc in zip(report.classes, report.per_class, strict=True):
        table.add_row(name, percent(acc))
    console.print(table)
    console.print(f"top-1 error {percent(report.top1_error)}   top-5 error "
                  f"{percent(report.top5_error)}   (accuracy {percent(1 - report.top1_error)})")
    console.print(f"confusion matrix: {figure}")


def register(app: typer.Typer) -> None:
    app.command("evaluate")(evaluate_command)
