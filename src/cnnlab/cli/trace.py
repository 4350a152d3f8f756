"""``cnnlab trace conv|pool|layer``: every step of a convolution or pooling, and layer shapes."""

from __future__ import annotations

from typing import Annotated

import typer

from cnnlab.cli.common import print_json
from cnnlab.convolution.examples import CONV_EXAMPLES, POOL_EXAMPLE, conv_example
from cnnlab.convolution.kernels import get_kernel
from cnnlab.convolution.matrices import read_matrix
from cnnlab.convolution.shapes import parse_size
from cnnlab.convolution.steps import trace_conv, trace_layer, trace_pool
from cnnlab.convolution.steps_text import format_layer, format_steps
from cnnlab.errors import CnnlabError, note

trace_app = typer.Typer(help="Show every step of a convolution, a pooling, or a layer's shapes.",
                        no_args_is_help=True)

_INPUT_HELP = ("Input plane: '1,1,0;0,1,1' (rows split by ';'), JSON, or a .txt/.json/.npy/"
               "image file (read as grayscale 0..255).")
Json = Annotated[bool, typer.Option("--json", help="Print JSON only.")]
DEFAULT_EXAMPLE = "lecture"  # the 5x5 * 3x3 example of the slides: 4 3 4 / 2 4 3 / 2 3 4


def _emit(trace, json_output: bool, nonzero: bool = False) -> None:
    if json_output:
        print_json(trace.to_dict())
    else:
        print(format_steps(trace, nonzero_only=nonzero))


@trace_app.command("conv")
def conv_command(
    example: Annotated[str | None, typer.Option(
        help=f"A lecture example: {', '.join(CONV_EXAMPLES)} (with no option at all: "
        f"{DEFAULT_EXAMPLE}).")] = None,
    input_spec: Annotated[str | None, typer.Option("--input", help=_INPUT_HELP)] = None,
    kernel: Annotated[str | None, typer.Option(help="A kernel name (see `cnnlab kernels`) or "
                                               "matrix like '1,0,1;0,1,0;1,0,1'.")] = None,
    stride: Annotated[int | None, typer.Option(min=1, help="Step between windows.")] = None,
    padding: Annotated[int | None, typer.Option(min=0, help="Pixels added per side.")] = None,
    border: Annotated[str, typer.Option(help="What padding holds: zero, reflect, replicate.")]
    = "zero",
    bias: Annotated[float, typer.Option(help="Added to every sum.")] = 0.0,
    nonzero: Annotated[bool, typer.Option(help="Print only the non-zero products.")] = False,
    json_output: Json = False,
) -> None:
    """Print each window, its products with the kernel, their sum, and the feature map."""
    if example is None and input_spec is None and kernel is None:
        example = DEFAULT_EXAMPLE
        note(f"the lecture's worked example (--example {DEFAULT_EXAMPLE}); --input and --kernel "
             f"trace your own")
    if example is not None and (input_spec or kernel):
        raise CnnlabError("--example already sets the input and the kernel")
    if example is not None:
        chosen = conv_example(example)
        image, matrix = chosen.image, chosen.kernel
        stride = chosen.stride if stride is None else stride
        padding = chosen.padding if padding is None else padding
    elif input_spec is None or kernel is None:
        raise CnnlabError("give --example NAME, or both --input and --kernel")
    else:
        image = read_matrix(input_spec, "input")
        picked = get_kernel(kernel)
        if not picked.is_linear:
            raise CnnlabError(f"{picked.name} is not a single kernel; trace one of its parts: "
                              + ", ".join(p.name for p in picked.parts))
        matrix = picked.matrix
    result = trace_conv(image, matrix, stride or 1, padding or 0, bias, border)
    _emit(result, json_output, nonzero)


@trace_app.command("pool")
def pool_command(
    input_spec: Annotated[str | None, typer.Option(
        "--input", help=_INPUT_HELP + " Default: the lecture's 3x3 feature map.")] = None,
    size: Annotated[int, typer.Option(min=1, help="Window size F (F x F).")] = 2,
    stride: Annotated[int | None, typer.Option(min=1, help="Step (default: the size).")] = None,
    padding: Annotated[int, typer.Option(min=0, help="Pixels added per side.")] = 0,
    op: Annotated[str, typer.Option(help="max or avg.")] = "max",
    json_output: Json = False,
) -> None:
    """Print each pooling window and the value it keeps (max or mean)."""
    image = POOL_EXAMPLE if input_spec is None else read_matrix(input_spec, "input")
    if input_spec is None and stride is None:
        stride = 1  # the lecture's slide: "2x2 Max Pooling with Stride=1"
    _emit(trace_pool(image, size, stride, padding, op), json_output)


@trace_app.command("layer")
def layer_command(
    input_size: Annotated[str, typer.Option("--input", help="H x W x C.")] = "32x32x3",
    filters: Annotated[int, typer.Option(min=1, help="Number of filters K.")] = 6,
    size: Annotated[int, typer.Option(min=1, help="Filter size F (F x F x C).")] = 5,
    stride: Annotated[int, typer.Option(min=1, help="Step between windows.")] = 1,
    padding: Annotated[int, typer.Option(min=0, help="Zero pixels added per side.")] = 0,
    json_output: Json = False,
) -> None:
    """Shapes through a many-channel, many-filter layer (default: 32x32x3, six 5x5x3 filters)."""
    result = trace_layer(parse_size(input_size), filters, size, stride, padding)
    if json_output:
        print_json(result.to_dict())
    else:
        print(format_layer(result))


def register(app: typer.Typer) -> None:
    app.add_typer(trace_app, name="trace")
