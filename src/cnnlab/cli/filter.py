"""``cnnlab filter``: apply a hand-crafted or custom kernel to a photo."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cnnlab.cli.common import console, print_json
from cnnlab.convolution.apply import FILTER_BACKENDS, filter_image
from cnnlab.convolution.figures import side_by_side
from cnnlab.convolution.kernels import get_kernel
from cnnlab.errors import CnnlabError
from cnnlab.imaging import (
    DEFAULT_MAX_PIXELS,
    SAMPLE_PHOTOS,
    load_image,
    load_sample,
    save_image,
)


def filter_command(
    image_path: Annotated[Path | None, typer.Argument(
        metavar="IMAGE", help="PNG or JPEG, any mode (omit with --sample).")] = None,
    kernel: Annotated[str, typer.Option("--kernel", "-k", help="A name from `cnnlab kernels`, "
                                        "a matrix '0,-1,0;-1,5,-1;0,-1,0', JSON, or a file.")]
    = "sharpen",
    out: Annotated[Path, typer.Option("--out", "-o", help="Output image (.png or .jpg).")]
    = Path("filtered.png"),
    sample: Annotated[str | None, typer.Option(
        help=f"Use a photo scikit-image ships: {', '.join(SAMPLE_PHOTOS)}.")] = None,
    stride: Annotated[int, typer.Option(min=1, help="Step between windows (output shrinks).")]
    = 1,
    padding: Annotated[str, typer.Option(help="same, valid, or pixels per side.")] = "same",
    border: Annotated[str, typer.Option(help="What padding holds: reflect, replicate, zero.")]
    = "reflect",
    dilation: Annotated[int, typer.Option(min=1, help="Spacing of the kernel's taps "
                                          "(1 = adjacent).")] = 1,
    gray: Annotated[bool, typer.Option(help="Filter the grayscale image, not each of R, G, B.")]
    = False,
    display: Annotated[str, typer.Option(help="auto, clip, abs or minmax: how responses become "
                                         "0..255 pixels.")] = "auto",
    figure: Annotated[Path | None, typer.Option(help="Also write input | kernel | output.")]
    = None,
    backend: Annotated[str, typer.Option(help=f"{', '.join(FILTER_BACKENDS)}.")] = "opencv",
    max_pixels: Annotated[int, typer.Option(min=1, help="Refuse larger images.")]
    = DEFAULT_MAX_PIXELS,
    json_output: Annotated[bool, typer.Option("--json", help="Print JSON only.")] = False,
) -> None:
    """Cross-correlate IMAGE (each RGB channel, or gray) with a kernel and save the result."""
    if (image_path is None) == (sample is None):
        raise CnnlabError("give either an IMAGE file or --sample NAME")
    if image_path is not None:
        image = load_image(image_path, "L" if gray else "RGB", max_pixels)
    else:
        image = load_sample(sample, gray)
    picked = get_kernel(kernel)
    result = filter_image(image, picked, stride, padding, border, dilation, display, backend)
    values, pixels, mode = result.values, result.pixels, result.display
    save_image(pixels, out)
    if figure is not None:
        side_by_side(image, picked, pixels, figure, f"(display: {mode})")
    record = {"input": str(image_path or f"sample:{sample}"), "input_shape": list(image.shape),
              "kernel": picked.name, "stride": stride, "padding": padding, "border": border,
              "dilation": dilation, "output_shape": list(pixels.shape),
              "response_min": float(values.min()), "response_max": float(values.max()),
              "display": mode, "output": str(out),
              "figure": None if figure is None else str(figure)}
    if json_output:
        print_json(record)
        return
    console.print(f"{record['input']} {'x'.join(map(str, image.shape))} * {picked.name} "
                  f"-> {'x'.join(map(str, pixels.shape))}; responses "
                  f"{record['response_min']:.1f}..{record['response_max']:.1f}, display {mode}",
                  highlight=False)
    console.print(f"wrote {out}" + (f" and {figure}" if figure else ""), highlight=False)


def register(app: typer.Typer) -> None:
    app.command("filter")(filter_command)
