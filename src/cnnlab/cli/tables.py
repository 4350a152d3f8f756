"""``cnnlab tables``: the lecture's and the papers' tables beside cnnlab's numbers."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from cnnlab.cli.common import console, print_json
from cnnlab.errors import note
from cnnlab.fileio import write_text
from cnnlab.papers import compare
from cnnlab.papers.chart import chart_points, plot_complexity
from cnnlab.papers.googlenet_table import googlenet_table
from cnnlab.papers.paper_table import PaperTable, paper_tables_markdown


class Which(str, Enum):
    shares = "shares"
    vgg16 = "vgg16"
    googlenet = "googlenet"
    cifar = "cifar"


class Format(str, Enum):
    table = "table"
    markdown = "markdown"
    json = "json"


def tables_command(
    only: Annotated[list[Which] | None, typer.Option(
        "--table", help="Print only this table (repeatable).")] = None,
    output_format: Annotated[Format, typer.Option("--format", help="Output format.")] = (
        Format.table),
    chart: Annotated[Path | None, typer.Option(
        help="Also draw the accuracy-vs-MACs chart to this .png (and .svg beside it).")] = None,
    out: Annotated[Path | None, typer.Option(help="Also write Markdown to this file.")] = None,
    json_output: Annotated[bool, typer.Option("--json", help="Print JSON only (--format json).")]
    = False,
) -> None:
    """Print each published table next to cnnlab's numbers, with every difference explained."""
    builders = {Which.shares: compare.share_table, Which.vgg16: compare.vgg16_table,
                Which.googlenet: googlenet_table, Which.cifar: compare.cifar_table}
    output_format = Format.json if json_output else output_format
    chosen = only or list(Which)
    tables = [builders[w]() for w in chosen]
    if output_format is Format.json:
        print_json([t.to_dict() for t in tables])
    elif output_format is Format.markdown:
        typer.echo(paper_tables_markdown(tables), nl=False)
    else:
        _print_rich(tables)
    if out is not None:
        write_text(out, paper_tables_markdown(tables))
    if chart is not None:
        points, skipped = chart_points()
        written = plot_complexity(points, chart)
        say = note if output_format is Format.json else console.print  # JSON keeps stdout
        say(f"chart: {', '.join(map(str, written))} ({len(points)} models; without a "
            f"published ImageNet top-1: {', '.join(skipped) or 'none'})")


def _print_rich(tables: list[PaperTable]) -> None:
    for t in tables:
        table = Table(title=t.title, caption=f"source: {t.source}", show_lines=False)
        for i, head in enumerate(t.headers):
            table.add_column(head, justify="left" if i < 2 else "right")
        for row in t.rows:
            table.add_row(*row, style="bold" if row[1] == "paper" else None)
        console.print(table)
        for i, text in enumerate(t.notes, 1):
            console.print(f"  {i}. {text}")
        console.print()


def register(app: typer.Typer) -> None:
    app.command("tables")(tables_command)
