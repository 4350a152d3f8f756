"""``cnnlab ensemble``: average the softmax outputs of several runs, ILSVRC-style table."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from cnnlab.cli.common import console, print_json
from cnnlab.cli.evaluate import parse_scales
from cnnlab.evaluation.ensemble import ensemble_runs
from cnnlab.evaluation.predict import ViewSpec
from cnnlab.fileio import write_json


def ensemble_command(
    run_dirs: Annotated[list[Path], typer.Argument(help="Two or more run folders.")],
    weights: Annotated[str, typer.Option(help="uniform, or tuned on a validation split.")]
    = "uniform",
    data_dir: Annotated[str | None, typer.Option(help="Folder with the dataset files.")] = None,
    limit: Annotated[int | None, typer.Option(help="Use only the first N test images.")] = None,
    crops: Annotated[str | None, typer.Option(
        help="center, flip, flipshift, 10crop or multiscale (default: each run's own, else "
        "center).")]
    = None,
    scales: Annotated[str | None, typer.Option(help="multiscale: shorter sides.")] = None,
    workers: Annotated[int, typer.Option(help="Decoding worker processes.")] = 0,
    out: Annotated[Path | None, typer.Option(
        help="Also write ensemble.json into this folder (e.g. one of the runs: the studio's "
        "Runs page shows it there).")] = None,
    json_output: Annotated[bool, typer.Option("--json", help="Print JSON only.")] = False,
) -> None:
    """Each run and their ensemble: top-1 and top-5 error, best first."""
    report = ensemble_runs(run_dirs, weights, data_dir=data_dir, limit=limit, workers=workers,
                           spec=ViewSpec(crops, scales=parse_scales(scales)))
    if out is not None:
        write_json(out / "ensemble.json", report.to_dict())
    if json_output:
        print_json(report.to_dict())
        return
    table = Table(title=f"Classification results ({report.test_samples:,} test images, "
                        f"{crops or 'views saved with each run'})")
    for column in ("Entry", "Entry description", "Top-1 error", "Top-5 error"):
        table.add_column(column, justify="left" if "Entry" in column else "right")
    for entry in report.entries:
        table.add_row(entry.name, entry.description, f"{entry.top1_error:.5f}",
                      f"{entry.top5_error:.5f}")
    console.print(table)
    console.print(f"weights tuned on: {report.validation}")


def register(app: typer.Typer) -> None:
    app.command("ensemble")(ensemble_command)
