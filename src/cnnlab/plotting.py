"""Matplotlib set-up and the one way a figure reaches disk (Agg backend, atomic write, closed).

Every PNG or SVG cnnlab draws with matplotlib goes through ``save_figure``, so no figure is
half-written when a run is interrupted and no figure stays open in a long process.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cnnlab.fileio import atomic_path


def pyplot() -> Any:
    """``matplotlib.pyplot`` on the Agg backend (no display needed)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_figure(fig: Any, path: str | Path, *more: str | Path, dpi: float | None = None) -> Path:
    """Write ``fig`` to ``path`` (and to each of ``more``), format from the suffix, then close it.

    Returns ``path``. ``dpi`` defaults to the figure's own.
    """
    targets = [Path(path), *(Path(p) for p in more)]
    for target in targets:
        with atomic_path(target) as tmp:
            fig.savefig(tmp, format=target.suffix.lstrip(".") or "png", dpi=dpi or "figure")
    pyplot().close(fig)
    return targets[0]
