"""Table c: GoogLeNet's Table 1 (Szegedy et al. 2015) beside cnnlab's googlenet.

The paper's rows are matched to cnnlab's layers by kind and order: convolutions, pools, dropout
and the linear layer outside the inception modules in execution order; inception modules by
name (``inception3a`` ...). Inside a module each convolution is classified by what it does: a
1x1 convolution feeding a kxk one is that branch's "reduce", a 1x1 after the branch's max pool
is the "pool proj", any other 1x1 is "#1x1". Params are weights without biases in K = 1024
(the paper's unit: 163,328 weights print as 159K); ops are multiply-adds in millions.
"""

from __future__ import annotations

import re

from torch import nn

from cnnlab.complexity.profiler import Profile, profile
from cnnlab.complexity.rows import LayerRow
from cnnlab.papers import tables as paper
from cnnlab.papers.paper_table import PaperTable, missing_row, registered
from cnnlab.runs import meta_model

_HEADERS = ["type", "source", "patch/stride", "output size", "depth", "#1x1", "#3x3 reduce",
            "#3x3", "#5x5 reduce", "#5x5", "pool proj", "params (K=1024)", "ops (M)", "verdict"]
_COUNTS = ["n1x1", "n3x3_reduce", "n3x3", "n5x5_reduce", "n5x5", "pool_proj"]


def googlenet_table(model: nn.Module | None = None, label: str = "googlenet") -> PaperTable:
    """Build table c for ``model`` (default: the registry's googlenet at 224x224)."""
    table = PaperTable("googlenet", "GoogLeNet, Table 1", paper.GOOGLENET_T1, _HEADERS, [])
    if model is None:
        if not registered("googlenet"):
            table.rows.append(missing_row("googlenet", len(_HEADERS)))
            table.missing.append("googlenet")
            table.notes.append("Not reproduced: googlenet is not registered.")
            return table
        model, _ = meta_model("googlenet", "3x224x224")
    p = profile(model, (3, 224, 224))
    modules = dict(model.named_modules())
    stem = _Stem(p, modules)
    for row in paper.GOOGLENET_TABLE1:
        table.rows.append(_paper_cells(row))
        ours = stem.take(row)
        if ours is None:
            table.rows.append(["", f"cnnlab {label}", *(["n/a"] * (len(_HEADERS) - 3)),
                               "NO MATCHING LAYER" if row.kind != "softmax" else
                               "not a layer: cnnlab returns logits"])
            continue
        cells, good = _our_cells(row, ours, modules)
        table.rows.append(["", f"cnnlab {label}", *cells, _verdict(row, good)])
    table.notes += _notes(p, stem)
    table.notes += [_inception_note(row, stem) for row in paper.GOOGLENET_TABLE1
                    if row.kind.startswith("inception") and _differs(row, stem)]
    return table


def _module_numbers(row: paper.GoogLeNetRow, stem: _Stem) -> tuple[int, int]:
    ours = stem.take(row) or []
    weights = sum(r.weights for r in ours if r.category == "conv")
    return weights, sum(r.macs for r in ours)


def _differs(row: paper.GoogLeNetRow, stem: _Stem) -> bool:
    weights, macs = _module_numbers(row, stem)
    return abs(weights / 1024 - row.params_k) > 1 or abs(macs / 1e6 - row.ops_m) > 1


def _inception_note(row: paper.GoogLeNetRow, stem: _Stem) -> str:
    """Why an inception row differs: the paper's params and ops cells against its filters."""
    weights, macs = _module_numbers(row, stem)
    positions = row.output[0] * row.output[1]
    implied = row.ops_m * 1e6 / positions / 1024  # weights its ops cell implies, in K
    slack = 0.5e6 / positions / 1024 + 1  # what rounding the ops cell to 1M can hide
    params_off = abs(weights / 1024 - row.params_k) > 1
    ops_off = abs(macs / 1e6 - row.ops_m) > 1
    cells = ("agree with each other" if abs(implied - row.params_k) <= slack
             else "disagree with each other")
    wrong = " and ".join(n for n, off in (("params", params_off), ("ops", ops_off)) if off)
    return (f"{row.kind}: its filter counts (the same in both rows) give {weights:,} weights "
            f"= {weights / 1024:.1f}K and x {positions} positions = {macs / 1e6:.1f}M "
            f"multiply-adds. The paper prints {row.params_k:g}K and {row.ops_m:g}M: its ops "
            f"cell implies {implied:.1f}K weights, so its two cells {cells}, and its {wrong} "
            f"{'cells do' if params_off and ops_off else 'cell does'} not follow from its own "
            f"filter counts. cnnlab follows the filters.")


def _paper_cells(row: paper.GoogLeNetRow) -> list[str]:
    counts = [_blank(getattr(row, c)) for c in _COUNTS]
    return [row.kind, "paper", row.patch, "x".join(map(str, row.output)), str(row.depth), *counts,
            _blank(row.params_k, "K"), _blank(row.ops_m, "M"), ""]


def _blank(value, unit: str = "") -> str:
    return "" if value is None else f"{value:g}{unit}"


class _Stem:
    """Hands out cnnlab's layers for the paper's rows, in order."""

    def __init__(self, p: Profile, modules: dict[str, nn.Module]) -> None:
        self.inception = {m.group(1): name for name in modules
                          if (m := re.search(r"inception_?(\d[a-e])$", name))}
        inside = tuple(f"{name}." for name in self.inception.values())
        self.outside = [r for r in p.rows if not r.name.startswith(inside)]
        self.p = p
        self.used: list[LayerRow] = []

    def take(self, row: paper.GoogLeNetRow) -> list[LayerRow] | None:
        if row.kind.startswith("inception"):
            name = self.inception.get(row.kind[-3:-1])
            return [r for r in self.p.rows if name and r.name.startswith(f"{name}.")] or None
        want = {"convolution": lambda r: r.category == "conv",
                "max pool": lambda r: "MaxPool" in r.kind,
                "avg pool": lambda r: "AvgPool" in r.kind,
                "dropout": lambda r: "Dropout" in r.kind,
                "linear": lambda r: r.category == "fc"}.get(row.kind.split(" (")[0])
        if want is None:
            return None
        found = []
        for r in self.outside:
            if r not in self.used and want(r):
                found.append(r)
                self.used.append(r)
                if len(found) == max(row.depth, 1):
                    return found
        return found or None


def _classify(rows: list[LayerRow], modules: dict[str, nn.Module]) -> dict[str, int]:
    """Filter counts of one inception module (or the stem's reduce + 3x3 pair) by role."""
    convs = [(r, modules.get(r.name)) for r in rows if r.category == "conv"]
    counts: dict[str, int] = {}
    for i, (row, conv) in enumerate(convs):
        if not isinstance(conv, nn.Conv2d):
            continue
        k = conv.kernel_size[0]
        nxt = convs[i + 1][1] if i + 1 < len(convs) else None
        before = rows[:rows.index(row)]
        after_pool = bool(before) and any("MaxPool" in r.kind for r in before[-3:])
        if k == 1 and isinstance(nxt, nn.Conv2d) and nxt.kernel_size[0] > 1 and (
                nxt.in_channels == conv.out_channels):
            role = f"n{nxt.kernel_size[0]}x{nxt.kernel_size[0]}_reduce"
        elif k == 1:
            role = "pool_proj" if after_pool else "n1x1"
        else:
            role = f"n{k}x{k}"
        counts[role] = counts.get(role, 0) + conv.out_channels
    return counts


def _our_cells(row: paper.GoogLeNetRow, ours: list[LayerRow],
               modules: dict[str, nn.Module]) -> tuple[list[str], dict[str, bool]]:
    last = ours[-1]
    shape = last.shape if len(last.shape) == 3 else (last.shape[0], 1, 1)
    out = (shape[1], shape[2], shape[0])
    counts = _classify(ours, modules) if row.depth == 2 else {}
    weights = sum(r.weights for r in ours if r.category in ("conv", "fc"))
    macs = sum(r.macs for r in ours)
    depth = 2 if any(k.endswith("reduce") for k in counts) else (1 if weights else 0)
    good = {"output": out == row.output, "depth": depth == row.depth,
            "counts": all(counts.get(c) == getattr(row, c) for c in _COUNTS
                          if getattr(row, c) is not None),
            "params": row.params_k is None or abs(weights / 1024 - row.params_k) <= 1,
            "ops": row.ops_m is None or abs(macs / 1e6 - row.ops_m) <= 1}
    cells = ["", "x".join(map(str, out)), str(depth), *(str(counts.get(c, "")) for c in _COUNTS),
             f"{weights / 1024:.1f}K" if weights else "", f"{macs / 1e6:.1f}M" if macs else ""]
    return cells, good


def _verdict(row: paper.GoogLeNetRow, good: dict[str, bool]) -> str:
    bad = [k for k, ok in good.items() if not ok]
    return "matches" if not bad else f"DIFFERS: {', '.join(bad)} (see notes)"


def _notes(p: Profile, stem: _Stem) -> list[str]:
    notes = [("Params: the paper's K is 1024 and it drops biases: inception (3a) has 163,328 "
             "weights = 159.5K; cnnlab prints one decimal, agreement within 1K counts as a match. "
             "Ops are multiply-adds (cnnlab's MACs) in millions.")]
    conv1 = next((r for r in p.rows if r.category == "conv"), None)
    if conv1 is not None:
        hw = conv1.shape[1] * conv1.shape[2] if len(conv1.shape) == 3 else 1
        notes.append(
            f"convolution 7x7/2 (conv1): cnnlab has {conv1.weights:,} weights "
            f"({conv1.weights / 1024:.1f}K = 7x7x3x64) and {conv1.macs / 1e6:.0f}M MACs. The "
            f"paper's 2.7K and 34M agree with each other (34M / {hw:,} outputs = "
            f"{34e6 / hw / 1024:.1f}K weights per position) but not with a 7x7 convolution from 3 "
            f"channels to 64: 2.7K x 1024 = {2.7 * 1024:,.0f} weights is about 7x7x1x56, under "
            f"a third of 7x7x3x64, as if a single input channel had been counted. The row does "
            f"not follow from the paper's own architecture; cnnlab's numbers follow the "
            f"architecture.")
    notes.append("softmax: cnnlab's models return logits; the softmax is in the loss.")
    if p.params_not_run:
        notes.append(f"The two auxiliary classifiers ({p.params_not_run:,} parameters) do not "
                     f"run at inference and, as in the paper's table, are not counted.")
    return notes
