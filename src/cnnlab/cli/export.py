"""``cnnlab export``: a run folder or a zoo model as an ONNX file, checked against torch."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cnnlab.cli.common import WEIGHTS_HELP, console, print_json
from cnnlab.errors import CnnlabError
from cnnlab.inference.export import TOLERANCE, cached_onnx, copy_atomically
from cnnlab.runs import resolve_model


def export_command(
    model: Annotated[str, typer.Argument(help="A run folder, or a model name with --weights.")],
    onnx: Annotated[Path, typer.Option("--onnx", help="The .onnx file to write.")],
    weights: Annotated[str | None, typer.Option(help=WEIGHTS_HELP)] = None,
    json_output: Annotated[bool, typer.Option("--json", help="Print JSON only.")] = False,
) -> None:
    """Export MODEL to ONNX (dynamic batch), checked to agree with torch within 1e-4.

    The export is cached in ~/.cache/cnnlab/onnx by a hash of the weights; OUT is a copy.
    """
    if onnx.is_dir():
        raise CnnlabError(f"--onnx {onnx}: is a folder; give the .onnx file name to write")
    net, meta = resolve_model(model, weights=weights)
    path = copy_atomically(cached_onnx(net, meta["input_size"]), onnx)
    summary = {"onnx": str(path), "model": meta["model"], "input_size": meta["input_size"],
               "bytes": path.stat().st_size, "tolerance": TOLERANCE}
    if json_output:
        print_json(summary)
        return
    console.print(f"wrote {path} ({summary['bytes'] / 1e6:.1f} MB): {meta['model']}, input "
                  f"N x {' x '.join(map(str, meta['input_size']))}, agrees with torch within "
                  f"{TOLERANCE:.0e}")


def register(app: typer.Typer) -> None:
    app.command("export")(export_command)
