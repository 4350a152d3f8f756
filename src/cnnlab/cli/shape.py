"""``cnnlab shape``: output sizes through a stack of layers, (W - F + 2P) / S + 1 at each."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from cnnlab.cli.common import console, print_json
from cnnlab.convolution.shapes import ROUNDINGS, parse_layer, parse_size, shape_stack
from cnnlab.errors import CnnlabError

_LAYER_HELP = ("Layers in order: conv:K,F[,S[,P[,D]]] (K filters of FxF, stride S, padding P, "
               "dilation D), pool:F[,S[,P]] (max), avgpool:F[,S[,P]], fc:N, relu, norm.")


def shape_command(
    layers: Annotated[list[str], typer.Argument(help=_LAYER_HELP)],
    input_size: Annotated[str, typer.Option("--input", help="Input size H x W x C, e.g. "
                                            "227x227x3.")] = "224x224x3",
    rounding: Annotated[str, typer.Option(help="strict: refuse a non-integer size; floor: "
                                          "drop the partial window (PyTorch); ceil.")] = "strict",
    json_output: Annotated[bool, typer.Option("--json", help="Print JSON only.")] = False,
) -> None:
    """Compute each layer's output size, parameters and activations for one image."""
    if rounding not in ROUNDINGS:
        raise CnnlabError(f"unknown rounding {rounding!r}: use {', '.join(ROUNDINGS)}")
    size = parse_size(input_size)
    rows = shape_stack(size, [parse_layer(text) for text in layers], rounding)
    if json_output:
        print_json({"input": list(size), "rounding": rounding,
                    "layers": [row.to_dict() for row in rows]})
        return
    table = Table(title=f"input {'x'.join(map(str, size))} (H x W x C), rounding {rounding}")
    for column in ("layer", "output size", "output", "activations", "weights", "biases"):
        table.add_column(column, justify="left" if column in ("layer", "output size") else "right")
    for row in rows:
        table.add_row(row.layer, row.formula, "x".join(map(str, row.output)),
                      f"{row.activations:,}", f"{row.weights:,}", f"{row.biases:,}")
    console.print(table)
    total = sum(row.weights + row.biases for row in rows)
    console.print(f"total parameters {total:,}; output {'x'.join(map(str, rows[-1].output))}")


def register(app: typer.Typer) -> None:
    app.command("shape")(shape_command)
