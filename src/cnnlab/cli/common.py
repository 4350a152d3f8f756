"""Small helpers shared by the command modules: JSON output and the console they print to
(``cnnlab.console.make_console``: no wrapping at 80 columns when stdout is not a terminal)."""

from __future__ import annotations

import json
import sys
from typing import Any

from cnnlab.console import make_console

console = make_console()

WEIGHTS_HELP = ("Weights for a model name: a .pth/.safetensors file, `torchvision` (its default "
                "weights, downloaded once into torch's hub cache) or a torchvision weights name "
                "such as IMAGENET1K_V2 (`cnnlab models NAME` lists them).")


def print_json(data: Any) -> None:
    """Machine-readable output on stdout, nothing else."""
    sys.stdout.write(json.dumps(data, indent=2) + "\n")


def percent(fraction: float) -> str:
    return f"{100 * fraction:.2f}%"
