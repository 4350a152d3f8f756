"""A published table beside cnnlab's numbers, the pieces every table builder shares, and the
tables as Markdown.

A builder (``compare``, ``googlenet_table``) profiles registered models on the meta device and
fills a ``PaperTable``: the published rows, cnnlab's rows, their differences and notes.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

from cnnlab.complexity.formatting import markdown_table
from cnnlab.complexity.profiler import Profile, profile
from cnnlab.models import list_models
from cnnlab.runs import meta_model


@dataclass
class PaperTable:
    """A published table beside cnnlab's numbers."""

    key: str
    title: str
    source: str
    headers: list[str]
    rows: list[list[str]]
    notes: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)  # registry names not available

    def to_dict(self) -> dict:
        """The table as JSON (``cnnlab tables --json``)."""
        return {"key": self.key, "title": self.title, "source": self.source,
                "headers": self.headers, "rows": self.rows, "notes": self.notes,
                "missing": self.missing}


def registered(name: str) -> bool:
    """True when ``name`` is in the model registry."""
    return name in list_models()


@functools.cache
def native_profile(name: str, input_text: str | None = None) -> Profile:
    """Profile a registered model on the meta device at its native (or the given) size.

    Kept per (name, size): a registered model's shapes never change within a process, and the
    tables, the chart and the studio ask for the same models again (treat it as read-only)."""
    model, size = meta_model(name, input_text)
    return profile(model, size)


def bias_additions(p: Profile) -> int:
    """One addition per output of a conv or FC layer that has a bias (not counted as MACs)."""
    return sum(r.activations for r in p.rows if r.biases and r.category in ("conv", "fc"))


def within_rounding(ours: float, published: float) -> bool:
    """True when ``ours`` rounds to ``published`` at the precision the table prints it."""
    step = 0.5 if float(published).is_integer() else 0.05
    return abs(ours - published) <= step + 1e-9


def missing_row(name: str, width: int) -> list[str]:
    """A ``width``-cell row saying that cnnlab has no model ``name``."""
    return ["", f"cnnlab: {name} is not registered", *(["n/a"] * (width - 3)),
            "NOT REPRODUCED"]


def paper_tables_markdown(tables: list[PaperTable]) -> str:
    """Every table as Markdown: title, source, the table, its notes."""
    parts = []
    for t in tables:
        parts += [f"### {t.title}", "", f"Source: {t.source}.", "",
                  markdown_table(t.headers, t.rows), ""]
        parts += [f"{i}. {note}" for i, note in enumerate(t.notes, 1)] + [""]
    return "\n".join(parts)
