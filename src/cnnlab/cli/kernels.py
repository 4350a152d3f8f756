"""``cnnlab kernels``: the named hand-crafted kernels and their matrices."""

from __future__ import annotations

from typing import Annotated

import typer

from cnnlab.cli.common import console, print_json
from cnnlab.convolution.kernels import Kernel, get_kernel, integer_form, list_kernels
from cnnlab.convolution.steps_text import format_matrix


def _record(kernel: Kernel) -> dict:
    return {"name": kernel.name, "shape": list(kernel.shape), "sum": kernel.sum,
            "description": kernel.description, "source": kernel.source,
            "matrix": None if kernel.parts else kernel.matrix.tolist(),
            "parts": [part.name for part in kernel.parts]}


def kernels_command(
    name: Annotated[str | None, typer.Argument(help="Show one kernel (a name or a matrix such "
                                               "as '1,0,1;0,1,0;1,0,1').")] = None,
    json_output: Annotated[bool, typer.Option("--json", help="Print JSON only.")] = False,
) -> None:
    """List the hand-crafted kernels with their matrices, or show NAME."""
    kernels = [get_kernel(name)] if name else list_kernels()
    if json_output:
        print_json([_record(k) for k in kernels])
        return
    for kernel in kernels:
        console.print(f"[bold]{kernel.name}[/bold]  {kernel.shape[0]}x{kernel.shape[1]}, "
                      f"sum {kernel.sum:g}: {kernel.description}"
                      + (f"  [dim]({kernel.source})[/dim]" if kernel.source else ""),
                      highlight=False)
        if kernel.parts:
            console.print("  sqrt(" + "^2 + ".join(p.name for p in kernel.parts) + "^2)",
                          highlight=False)
        else:
            denominator, matrix = integer_form(kernel.matrix)
            if denominator > 1:
                console.print(f"  1/{denominator} x", highlight=False)
            console.print("\n".join(format_matrix(matrix)), highlight=False)
        console.print()


def register(app: typer.Typer) -> None:
    app.command("kernels")(kernels_command)
