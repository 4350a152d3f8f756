"""Small helpers shared by the command modules: JSON output and rich tables."""

from __future__ import annotations

import json
import sys
from typing import Any

from rich.console import Console

console = Console()


def print_json(data: Any) -> None:
    """Machine-readable output on stdout, nothing else."""
    sys.stdout.write(json.dumps(data, indent=2) + "\n")


def percent(fraction: float) -> str:
    return f"{100 * fraction:.2f}%"
