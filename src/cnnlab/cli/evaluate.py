"""``cnnlab evaluate``: test-split error, per-class accuracy and a confusion matrix."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from cnnlab.cli.common import WEIGHTS_HELP, console, percent, print_json
from cnnlab.errors import CnnlabError
from cnnlab.evaluation.confusion import plot_confusion
from cnnlab.evaluation.evaluate import evaluate_run
from cnnlab.evaluation.predict import ViewSpec
from cnnlab.fileio import write_json


def parse_scales(text: str | None) -> list[int]:
    """"256,384,512" -> [256, 384, 512]."""
    if not text:
        return []
    try:
        return [int(v) for v in text.split(",")]
    except ValueError:
        raise CnnlabError(f"--scales {text!r}: expected comma-separated integers") from None


def evaluate_command(
    run_dir: Annotated[Path, typer.Argument(
        help="A run folder written by `cnnlab train`, or a model name with --weights.")],
    weights: Annotated[str | None, typer.Option(
        help=WEIGHTS_HELP)] = None,
    dataset: Annotated[str | None, typer.Option(
        help="Dataset for a model name (default: its native one).")] = None,
    out: Annotated[Path | None, typer.Option(
        help="Folder for confusion.png and evaluation.json (default: the run folder, or "
        "./evaluation-MODEL for a model name).")] = None,
    data_dir: Annotated[str | None, typer.Option(help="Folder with the dataset files.")] = None,
    limit: Annotated[int | None, typer.Option(help="Score only the first N test images.")] = None,
    crops: Annotated[str | None, typer.Option(
        help="center, flip, flipshift, 10crop or multiscale (default: the views the run was "
        "trained to be scored with, e.g. flip for --recipe fast; else center).")] = None,
    size: Annotated[int | None, typer.Option(help="Crop size for image files (224).")] = None,
    resize: Annotated[int | None, typer.Option(help="Shorter side before cropping.")] = None,
    scales: Annotated[str | None, typer.Option(
        help="multiscale: shorter sides, e.g. 256,384,512.")] = None,
    workers: Annotated[int, typer.Option(help="Decoding worker processes.")] = 0,
    json_output: Annotated[bool, typer.Option("--json", help="Print JSON only.")] = False,
) -> None:
    """Top-1/top-5 error on the test split, per-class accuracy, confusion.png in RUN_DIR."""
    spec = ViewSpec(crops, size, resize, parse_scales(scales))
    report = evaluate_run(run_dir, data_dir=data_dir, limit=limit, spec=spec, workers=workers,
                          weights=weights, dataset=dataset)
    if out is None:
        out = run_dir if run_dir.is_dir() else Path(f"evaluation-{run_dir.name}")
    figure = plot_confusion(report.confusion, report.classes, out / "confusion.png")
    write_json(out / "evaluation.json", report.to_dict())
    if json_output:
        print_json({**report.to_dict(), "confusion_png": str(figure)})
        return
    table = Table(title=f"Per-class accuracy ({report.samples:,} test images, {report.crops})")
    table.add_column("class")
    table.add_column("accuracy", justify="right")
    for name, acc in zip(report.classes, report.per_class, strict=True):
        table.add_row(name, percent(acc))
    console.print(table)
    console.print(f"top-1 error {percent(report.top1_error)}   top-5 error "
                  f"{percent(report.top5_error)}   (accuracy {percent(1 - report.top1_error)})")
    if report.skipped_files:
        console.print(f"skipped {report.skipped_files} undecodable image file(s)")
    console.print(f"confusion matrix: {figure}")


def register(app: typer.Typer) -> None:
    app.command("evaluate")(evaluate_command)
