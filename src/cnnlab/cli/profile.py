"""``cnnlab profile``: per-layer parameters, MACs, memory and receptive fields of a model."""

from __future__ import annotations

import json
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from cnnlab.cli.common import console, print_json
from cnnlab.complexity import formatting
from cnnlab.complexity.profiler import OPTIMIZER_STATE, profile
from cnnlab.errors import CnnlabError
from cnnlab.fileio import write_text
from cnnlab.runs import meta_model


class Format(str, Enum):
    table = "table"
    csv = "csv"
    json = "json"
    markdown = "markdown"


def profile_command(
    target: Annotated[str, typer.Argument(help="A registry name (see `cnnlab models`) or a "
                                                 "run folder.", metavar="NAME|RUN_DIR")],
    input_size: Annotated[str | None, typer.Option(
        "--input", help="CxHxW, HxW or a side (default: the model's native size).")] = None,
    batch: Annotated[int, typer.Option(help="Images per batch (activations, MACs, memory).")] = 1,
    output_format: Annotated[Format, typer.Option("--format", help="Output format.")] = (
        Format.table),
    flops: Annotated[bool, typer.Option("--flops", help="Add a FLOPs (2 x MACs) column.")] = False,
    other: Annotated[bool, typer.Option(
        "--other", help="Add the operations that are not MACs (BN, ReLU, pooling, LRN).")] = False,
    dtype: Annotated[str, typer.Option(help="float32, float16, bfloat16 or float64.")] = "float32",
    optimizer: Annotated[str, typer.Option(
        help="Training-memory estimate for sgd, sgd-momentum or adam.")] = "sgd-momentum",
    blocks_only: Annotated[bool, typer.Option("--blocks", help="Print blocks, not layers.")] = (
        False),
    out: Annotated[Path | None, typer.Option(help="Also write the output to this file.")] = None,
    json_output: Annotated[bool, typer.Option("--json", help="Print JSON only (--format json).")]
    = False,
) -> None:
    """Parameters, MACs, activation memory and receptive fields, layer by layer and per block.

    Runs on the meta device: nothing is computed and no weights are loaded.
    """
    if batch < 1:
        raise CnnlabError(f"--batch must be at least 1, got {batch}")
    if optimizer not in OPTIMIZER_STATE:
        raise CnnlabError(f"unknown --optimizer {optimizer!r}; use {', '.join(OPTIMIZER_STATE)}")
    output_format = Format.json if json_output else output_format
    model, size = meta_model(target, input_size, dtype)
    result = profile(model, size, batch=batch)
    if output_format is Format.table:
        _print_tables(result, flops, other, blocks_only, optimizer)
        if out is not None:
            write_text(out, formatting.profile_markdown(result, flops, other, optimizer))
        return
    if output_format is Format.json:
        text = None
        print_json(result.to_dict())
    elif output_format is Format.csv:
        text = formatting.profile_csv(result, flops, other)
    else:
        text = formatting.profile_markdown(result, flops, other, optimizer)
    if text is not None:
        typer.echo(text, nl=False)
    if out is not None:
        write_text(out, text if text is not None else json.dumps(result.to_dict(), indent=2))


def _print_tables(result, flops: bool, other: bool, blocks_only: bool, optimizer: str) -> None:
    head = formatting.columns(flops, other)
    sections = [("Blocks", result.blocks)] if blocks_only else [
        ("Layers", result.rows), ("Blocks", result.blocks)]
    for title, rows in sections:
        if not rows:
            continue
        table = Table(title=f"{result.model} at {formatting.shape_text(result.input_size)}, "
                            f"batch {result.batch}: {title.lower()}")
        for i, col in enumerate(head):
            table.add_column(col, justify="left" if i < 3 else "right")
        for row in rows:
            table.add_row(*formatting.row_cells(row, flops, other))
        console.print(table)
    for label, value in formatting.totals(result, optimizer):
        console.print(f"[bold]{label}[/bold]: {value}")


def register(app: typer.Typer) -> None:
    app.command("profile")(profile_command)
