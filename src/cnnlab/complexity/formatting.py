"""Profile -> text: the per-layer table as rows of strings, CSV, Markdown, and the totals.

Counts print in full with thousands separators (the lecture's tables compare exact numbers);
bytes print in decimal units (1 MB = 10^6 bytes, as the VGG slide's "24M x 4 bytes = 96 MB").
"""

from __future__ import annotations

import csv
import io

from cnnlab.complexity.profiler import Profile
from cnnlab.complexity.receptive_field import ReceptiveField
from cnnlab.complexity.rows import LayerRow


def columns(flops: bool = False, other: bool = False) -> list[str]:
    """Column titles of the layer table (MACs always; FLOPs and other ops when asked)."""
    cols = ["layer", "type", "output", "activations", "act. bytes", "weights", "biases", "MACs"]
    cols += ["FLOPs"] * flops + ["other ops"] * other
    return cols + ["RF size", "jump", "start", "cum. params", "cum. MACs"]


def row_cells(row: LayerRow, flops: bool = False, other: bool = False) -> list[str]:
    """One row's cells, in ``columns()`` order."""
    cells = [row.name, row.kind, shape_text(row.shape), f"{row.activations:,}",
             human_bytes(row.activation_bytes), f"{row.weights:,}", f"{row.biases:,}",
             f"{row.macs:,}"]
    cells += [f"{2 * row.macs:,}"] * flops + [f"{row.other_ops:,}"] * other
    size, jump, start = field_cells(row.field)
    return cells + [size, jump, start, f"{row.cum_params:,}", f"{row.cum_macs:,}"]


def field_cells(field: ReceptiveField | None) -> tuple[str, str, str]:
    """Receptive field as three short cells: size, jump, start (one number when square)."""
    if field is None:
        return "-", "-", "-"
    mark = "" if field.exact else " (bound)"
    return pair_text(field.size) + mark, pair_text(field.jump), pair_text(field.start)


def pair_text(pair: tuple[float, float]) -> str:
    """``11`` for (11, 11), ``7x15`` for (7, 15), ``7.5`` for (7.5, 7.5)."""
    a, b = (f"{v:g}" for v in pair)
    return a if a == b else f"{a}x{b}"


def shape_text(shape: tuple[int, ...]) -> str:
    """A shape as the tables print it: (64, 56, 56) -> '64x56x56'; an empty shape -> '-'."""
    return "x".join(str(s) for s in shape) if shape else "-"


def human_bytes(count: float) -> str:
    """Decimal units: 96,337,920 -> '96.3 MB'."""
    for unit in ("B", "kB", "MB", "GB"):
        if abs(count) < 1000 or unit == "GB":
            return f"{count:,.0f} {unit}" if unit == "B" else f"{count:,.1f} {unit}"
        count /= 1000
    return f"{count:,.1f} TB"


def human_count(count: float) -> str:
    """724,406,816 -> '724.4M' (decimal)."""
    for unit, scale in (("G", 1e9), ("M", 1e6), ("K", 1e3)):
        if abs(count) >= scale:
            return f"{count / scale:,.1f}{unit}"
    return f"{count:,.0f}"


def totals(p: Profile, optimizer: str = "sgd-momentum") -> list[tuple[str, str]]:
    """(label, value) lines summarizing a profile (training memory for ``optimizer``)."""
    per = f"per image ({p.dtype})"
    lines = [
        ("parameters", f"{p.params:,} ({human_count(p.params)})"),
        ("MACs", (f"{p.macs:,} ({human_count(p.macs)}) for batch {p.batch}; "
                 f"FLOPs = 2 x MACs = {human_count(2 * p.macs)}")),
        ("other ops", f"{p.other_ops:,} (BN, ReLU, pooling, LRN, additions; not MACs)"),
        ("activations", (f"{p.activation_count():,} elements = "
                        f"{human_bytes(p.activation_bytes())} {per}, forward pass")),
        ("conv / FC params", _shares(p, "params")),
        ("conv / FC MACs", _shares(p, "macs")),
    ]
    mem = p.training_memory(optimizer)
    lines.append((f"training memory ({optimizer})",
                  (f"{human_bytes(mem['total'])} for batch {p.batch} (activations "
                  f"{human_bytes(mem['activations'])}, params + grads + state "
                  f"{human_bytes(mem['total'] - mem['activations'])}; estimate)")))
    if p.params_not_run:
        lines.append(("not run", (f"{p.params_not_run:,} parameters in modules that do not run "
                                 f"in eval mode (e.g. auxiliary heads), left out above")))
    if p.approximate_ops:
        lines.append(("receptive field", "upper bound after operators without a rule: "
                                         + ", ".join(p.approximate_ops)))
    return lines


def _shares(p: Profile, what: str) -> str:
    text = f"{100 * p.share(what, 'conv'):.1f}% / {100 * p.share(what, 'fc'):.1f}%"
    rest = p.share(what, "other")
    return text + (f" (other layers {100 * rest:.1f}%)" if rest >= 0.0005 else "")


def profile_csv(p: Profile, flops: bool = False, other: bool = False) -> str:
    """Layers then blocks, one CSV row each, numbers unformatted; a ``level`` column tells them
    apart."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["level", "layer", "type", "category", "output", "activations",
                     "activation_bytes", "weights", "biases", "macs"]
                    + ["flops"] * flops + ["other_ops"] * other
                    + ["rf_size", "rf_jump", "rf_start", "cum_params", "cum_macs"])
    for level, rows in (("layer", p.rows), ("block", p.blocks)):
        for r in rows:
            size, jump, start = field_cells(r.field)
            writer.writerow([level, r.name, r.kind, r.category, shape_text(r.shape),
                             r.activations, r.activation_bytes, r.weights, r.biases, r.macs]
                            + [2 * r.macs] * flops + [r.other_ops] * other
                            + [size, jump, start, r.cum_params, r.cum_macs])
    return buffer.getvalue()


def markdown_table(headers: list[str], rows: list[list[str]]) -> str:
    """A GitHub Markdown table (numbers right-aligned)."""
    align = ["---" if i < 3 else "---:" for i in range(len(headers))]
    lines = ["| " + " | ".join(headers) + " |", "| " + " | ".join(align) + " |"]
    lines += ["| " + " | ".join(c.replace("|", "\\|") for c in row) + " |" for row in rows]
    return "\n".join(lines)


def profile_markdown(p: Profile, flops: bool = False, other: bool = False,
                optimizer: str = "sgd-momentum") -> str:
    """Title, layer table, block table and totals as Markdown."""
    head = columns(flops, other)
    parts = [f"### {p.model} at {shape_text(p.input_size)}, batch {p.batch}", "",
             markdown_table(head, [row_cells(r, flops, other) for r in p.rows])]
    if p.blocks:
        parts += ["", "Blocks", "",
                  markdown_table(head, [row_cells(b, flops, other) for b in p.blocks])]
    parts += [""] + [f"- **{label}**: {value}" for label, value in totals(p, optimizer)]
    return "\n".join(parts) + "\n"
