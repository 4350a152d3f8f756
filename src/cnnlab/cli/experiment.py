"""``cnnlab experiment list`` and ``cnnlab experiment run NAME``: the lecture's claims, rerun."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from cnnlab.cli.common import console, print_json
from cnnlab.experiments import get_experiment, list_experiments, run_experiment
from cnnlab.experiments.base import SCALES

experiment_app = typer.Typer(
    help="Rerun the lecture's claims: `cnnlab experiment list`, `cnnlab experiment run NAME`.",
    no_args_is_help=True)


@experiment_app.command("list")
def list_command(
    json_output: Annotated[bool, typer.Option("--json", help="Print JSON only.")] = False,
) -> None:
    """Every experiment, the claim it tests, its source and how long each scale takes."""
    entries = []
    for name in list_experiments():
        exp = get_experiment(name)
        entries.append({"name": name, "title": exp.title, "claim": exp.claim,
                        "lecture": exp.lecture, "source": exp.source,
                        "scales": {s: exp.scales[s].duration for s in SCALES},
                        "seeds": {s: exp.scales[s].seeds for s in SCALES}})
    if json_output:
        print_json(entries)
        return
    table = Table(title="Experiments (cnnlab experiment run NAME [--scale tiny|quick|paper])",
                  show_lines=True)
    for column in ("name", "claim (the lecture) and source", "tiny / quick / paper"):
        table.add_column(column)
    for e in entries:
        durations = "\n".join(f"{s}: {d} ({_seeds(e['seeds'][s])})"
                              for s, d in e["scales"].items())
        table.add_row(e["name"], f"{e['title']}\n\"{e['claim']}\" ({e['lecture']})\n"
                                 f"{e['source']}", durations)
    console.print(table)


@experiment_app.command("run")
def run_command(
    name: Annotated[str, typer.Argument(help="An experiment (`cnnlab experiment list`).")],
    scale: Annotated[str, typer.Option(help="tiny (seconds), quick (minutes on a CPU) or "
                                            "paper (the paper's data and schedule, a GPU).")]
    = "quick",
    seeds: Annotated[int | None, typer.Option(
        min=1, help="Models per arm (the ensemble: members); default: the scale's.")] = None,
    device: Annotated[str, typer.Option(help="auto, cpu or cuda[:N].")] = "auto",
    out: Annotated[Path | None, typer.Option(
        help="Report folder (default: experiments/NAME-SCALE); rerun to resume.")] = None,
    data_dir: Annotated[str | None, typer.Option(help="Folder with the dataset files.")]
    = None,
    threads: Annotated[int, typer.Option(min=0, help="CPU threads (0: torch's default).")]
    = 0,
) -> None:
    """Train what the claim needs, then write report.md, results.json and figure.png."""
    get_experiment(name)  # an unknown name fails before anything is written
    folder = run_experiment(name, scale, seeds=seeds, device=device, out=out,
                            data_dir=data_dir, threads=threads, show_training=True,
                            log=lambda line: console.print(line, highlight=False))
    console.print(f"verdict: {_verdict(folder / 'results.json')}  ({folder / 'report.md'})",
                  highlight=False)


def _seeds(count: int) -> str:
    return f"{count} seed{'s' if count != 1 else ''}"


def _verdict(results: Path) -> str:
    return json.loads(results.read_text(encoding="utf-8"))["verdict"]


def register(app: typer.Typer) -> None:
    app.add_typer(experiment_app, name="experiment")
