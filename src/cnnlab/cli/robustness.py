"""``cnnlab robustness``: errors under the lecture's challenges, CE, plots and robustness.json."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from cnnlab.cli.common import console, print_json
from cnnlab.fileio import run_lock
from cnnlab.robustness.evaluate import evaluate_robustness
from cnnlab.robustness.outputs import write_report
from cnnlab.robustness.report import RobustnessReport, table_rows
from cnnlab.robustness.settings import RobustnessSettings, parse_challenges, parse_severities


def robustness_command(
    target: Annotated[str, typer.Argument(
        metavar="RUN_OR_MODEL",
        help="A run folder written by `cnnlab train`, or a model name with --weights.")],
    weights: Annotated[str | None, typer.Option(
        help="Weights file for a model name (e.g. torchvision's .pth).")] = None,
    dataset: Annotated[str | None, typer.Option(
        help="Dataset to score on (default: the run's, or the model's native one).")] = None,
    data_dir: Annotated[str | None, typer.Option(help="Folder with the dataset files.")] = None,
    challenges: Annotated[list[str] | None, typer.Option(
        help="Challenges or corruptions to measure, comma-separated or repeated (default: "
        "all): viewpoint, illumination, deformation, occlusion, clutter, or names such as "
        "rotation.")] = None,
    severities: Annotated[str, typer.Option(
        help="Severities to measure: a range 1-5 or a list 1,3,5 (0 = clean, always).")]
    = "1-5",
    reference: Annotated[str | None, typer.Option(
        help="Run folder to normalize the corruption error to (CE, relative CE).")] = None,
    seed: Annotated[int, typer.Option(help="Seed of the corruptions' random draws.")] = 0,
    limit: Annotated[int | None, typer.Option(help="Score only the first N test images.")]
    = None,
    out: Annotated[Path | None, typer.Option(
        help="Folder for robustness.json, the table and figures (default: the run folder, "
        "or ./robustness-MODEL for a model name).")] = None,
    json_output: Annotated[bool, typer.Option("--json", help="Print JSON only.")] = False,
) -> None:
    """Errors under the lecture's challenges per corruption and severity, robustness.json."""
    settings = RobustnessSettings(parse_challenges(challenges), parse_severities(severities),
                                  seed, limit)
    if out is None:
        out = Path(target) if Path(target).is_dir() else Path(f"robustness-{Path(target).name}")
    # One writer per folder: an existing folder (a run's) is held from the start, so a second
    # robustness or a training run there is refused before minutes of scoring; a new folder is
    # created (and held) only once the scoring has worked.
    with contextlib.ExitStack() as held:
        early = out.is_dir()
        if early:
            held.enter_context(run_lock(out, "cnnlab robustness"))
        spinner = (contextlib.nullcontext() if json_output
                   else console.status("scoring the clean test images"))
        with spinner as status:
            report = evaluate_robustness(
                target, settings, weights=weights, dataset=dataset, data_dir=data_dir,
                reference=reference, progress=None if status is None else (
                    lambda name, s: status.update(f"scoring {name}, severity {s}")))
        if not early:
            held.enter_context(run_lock(out, "cnnlab robustness"))
        paths = write_report(report, out)
    if json_output:
        print_json({**report.to_dict(), "files": {k: str(p) for k, p in paths.items()}})
        return
    _print(report)
    for kind, path in paths.items():
        console.print(f"{kind}: {path}")


def _print(report: RobustnessReport) -> None:
    header, rows = table_rows(report)
    table = Table(title=f"Top-1 error (%) under the challenges: {report.target}, "
                  f"{report.samples:,} test images")
    for i, name in enumerate(header):
        table.add_column(name, justify="left" if i < 2 else "right")
    for row in rows:
        table.add_row(*[cell.replace("**", "") for cell in row])
    console.print(table)
    intra = report.intraclass
    pairs = "; ".join(f"{p.a} / {p.b} ({p.a_as_b} + {p.b_as_a})" for p in intra.pairs)
    console.print(f"intraclass variation: per-class accuracy spread {100 * intra.spread:.1f} "
                  f"points; most confused: {pairs or 'none'}")


def register(app: typer.Typer) -> None:
    app.command("robustness")(robustness_command)
