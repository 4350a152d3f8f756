"""Grouped rows: one per inception module or residual stage, as GoogLeNet's Table 1 groups them.

Which modules are blocks is read from the module tree: every non-leaf child of the model is a
block (``layer1`` of a ResNet, ``inception3a`` of GoogLeNet, ``features`` of VGG), except a
container that mixes single layers with blocks (a ``features`` Sequential holding convolutions
and inception modules), which is opened and its blocks listed instead.
"""

from __future__ import annotations

from torch import nn

from cnnlab.complexity.receptive_field import ReceptiveField
from cnnlab.complexity.rows import LayerRow
from cnnlab.complexity.walk import Call

_CONTAINERS = (nn.Sequential, nn.ModuleList, nn.ModuleDict)


def block_names(model: nn.Module, prefix: str = "") -> list[str]:
    """Module paths of the blocks of ``model`` (see the module docstring)."""
    names = []
    for name, child in model.named_children():
        if _is_leaf(child):
            continue
        kids = list(child.children())
        mixed = isinstance(child, _CONTAINERS) and any(_is_leaf(k) for k in kids) and any(
            not _is_leaf(k) for k in kids)
        names += block_names(child, f"{prefix}{name}.") if mixed else [f"{prefix}{name}"]
    return names


def group_rows(rows: list[LayerRow], names: list[str], calls: dict[str, Call],
               fields: dict[str, ReceptiveField], batch: int) -> list[LayerRow]:
    """One row per block that ran: sums of its layers, the block output's shape and field."""
    grouped = []
    for name in names:
        if name not in calls:
            continue  # did not run (an auxiliary head in eval mode)
        inside = [r for r in rows if r.name.startswith(f"{name}.")]
        call = calls[name]
        convs = sum(r.macs for r in inside if r.category == "conv")
        fcs = sum(r.macs for r in inside if r.category == "fc")
        grouped.append(LayerRow(
            name=name, kind=call.kind,
            category="conv" if convs >= fcs and convs else ("fc" if fcs else "other"),
            shape=tuple(call.shape[1:]), activations=sum(r.activations for r in inside),
            activation_bytes=sum(r.activation_bytes for r in inside),
            weights=sum(r.weights for r in inside), biases=sum(r.biases for r in inside),
            macs=sum(r.macs for r in inside), other_ops=sum(r.other_ops for r in inside),
            field=fields.get(name),
            cum_params=inside[-1].cum_params if inside else 0,
            cum_macs=inside[-1].cum_macs if inside else 0))
    return grouped


def _is_leaf(module: nn.Module) -> bool:
    return next(module.children(), None) is None
