"""``cnnlab predict``: top-5 classes of image files."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cnnlab.cli.common import WEIGHTS_HELP, console, print_json
from cnnlab.inference.backends import BACKENDS, load_backend
from cnnlab.inference.classify import classify_images
from cnnlab.runs import resolve_model


def predict_command(
    model: Annotated[str, typer.Argument(help="A run folder, or a model name with --weights.")],
    images: Annotated[list[Path], typer.Argument(help="PNG or JPEG files, any size or mode.")],
    weights: Annotated[str | None, typer.Option(help=WEIGHTS_HELP)] = None,
    top: Annotated[int, typer.Option(min=1, help="How many classes to show.")] = 5,
    invert: Annotated[str, typer.Option(help="auto, yes or no: invert gray levels "
                                        "(auto: light-background photos, Fashion-MNIST)")]
    = "auto",
    backend: Annotated[str, typer.Option(
        help="auto (the faster runtime for this model, timed on first use: docs/fast.md), "
             f"{', '.join(BACKENDS)}; ONNX-based ones export once and cache the file.")]
    = "eager",
    json_output: Annotated[bool, typer.Option("--json", help="Print JSON only.")] = False,
) -> None:
    """Print the top classes with probabilities for each IMAGE."""
    net, meta = resolve_model(model, weights=weights)
    net = load_backend(backend, net, meta["input_size"])
    results = classify_images(net, meta, images, top=top, invert=invert)
    if json_output:
        print_json([r.to_dict() for r in results])
        return
    for result in results:
        console.print(f"[bold]{result.path}[/bold]")
        for name, prob in zip(result.classes, result.probabilities, strict=True):
            console.print(f"  {100 * prob:6.2f}%  {name}")


def register(app: typer.Typer) -> None:
    app.command("predict")(predict_command)
