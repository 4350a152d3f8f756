"""The explorer's block diagram: a model's module tree, named by what each part is.

Roles come from the model's own classes and names, not from a second description of each
family: a module with ``branch*`` children is an inception module (its branches grouped by
name, ``branch3x3dbl_1``..``_3`` being one branch), cnnlab's residual block classes are
residual blocks (their ``downsample`` or identity is the shortcut), a container of blocks is a
stage, ``SqueezeExcite`` is an SE block, a convolution with 2+ groups (AlexNet's two GPUs) is
drawn as its groups. The leaf layers before the first block are the stem, those after the last
one the head. Counts come from the profiler's rows (``cnnlab profile``), shapes from one pass on
the meta device.
"""

from __future__ import annotations

import re
from typing import Any

import torch
from torch import nn

from cnnlab.complexity.profiler import Profile
from cnnlab.models.googlenet import InceptionAux
from cnnlab.models.inception_resnet import InceptionResidual
from cnnlab.models.inception_v3 import InceptionAux as InceptionV3Aux
from cnnlab.models.layers import SqueezeExcite
from cnnlab.models.resnet import BasicBlock, Bottleneck
from cnnlab.models.resnet_cifar import CifarBlock

RESIDUAL = (BasicBlock, Bottleneck, CifarBlock, InceptionResidual)
AUXILIARY = (InceptionAux, InceptionV3Aux)
_BRANCH_SUFFIX = re.compile(r"_\d+[a-z]?$")  # branch7x7_2, branch3x3_2a: parts of one branch


def meta_shapes(model: nn.Module, input_size: tuple[int, int, int]) -> dict[str, list[int]]:
    """Output shape (one image) of every module's first call, on the meta device."""
    shapes: dict[str, list[int]] = {}
    handles = []
    model.eval()  # as the profiler walks it: auxiliary heads off, batch norm on statistics
    for name, module in model.named_modules():
        def hook(_m: nn.Module, _i: tuple, out: object, name: str = name) -> None:
            if isinstance(out, torch.Tensor) and name not in shapes:
                shapes[name] = list(out.shape[1:])

        handles.append(module.register_forward_hook(hook))
    try:
        with torch.no_grad():
            model(torch.empty(1, *input_size, device="meta"))
    finally:
        for handle in handles:
            handle.remove()
    return shapes


def _sums(result: Profile) -> dict[str, tuple[int, int]]:
    """(params, MACs) of every module path, summed from the profiler's leaf rows."""
    sums: dict[str, list[int]] = {}
    for row in result.rows:
        parts = row.name.split("#")[0].split(".")
        for depth in range(len(parts) + 1):
            key = ".".join(parts[:depth])
            total = sums.setdefault(key, [0, 0])
            total[0] += row.params
            total[1] += row.macs
    return {k: (v[0], v[1]) for k, v in sums.items()}


class _Builder:
    def __init__(self, shapes: dict[str, list[int]], sums: dict[str, tuple[int, int]]) -> None:
        self.shapes, self.sums = shapes, sums

    def node(self, name: str, module: nn.Module | None, role: str, children: list[dict],
             label: str | None = None) -> dict[str, Any]:
        params, macs = self.sums.get(name, (0, 0))
        if module is None:  # a group of real modules (a branch, the stem): sum its children
            params = sum(c["params"] for c in children)
            macs = sum(c["macs"] for c in children)
        out = {"name": name, "label": label or name.rsplit(".", 1)[-1] or "model",
               "role": role, "kind": type(module).__name__ if module is not None else role,
               "shape": self.shapes.get(name) if module is not None else (
                   children[-1]["shape"] if children else None),
               "params": params, "macs": macs, "layer": module is not None and name in self.shapes,
               "filters": isinstance(module, nn.Conv2d), "children": children}
        if isinstance(module, nn.Conv2d):
            out["conv"] = {"kernel": list(module.kernel_size), "stride": list(module.stride),
                           "padding": list(module.padding) if isinstance(module.padding, tuple)
                           else module.padding, "groups": module.groups,
                           "in": module.in_channels, "out": module.out_channels}
        if module is not None and not out["layer"] and name:
            out["note"] = "does not run at inference (eval mode)"
        return out

    def build(self, name: str, module: nn.Module, role: str | None = None) -> dict[str, Any]:
        kids = list(module.named_children())
        if not kids:
            return self._leaf(name, module)
        if any(k.startswith("branch") for k, _ in kids):
            return self._inception(name, module, kids)
        if isinstance(module, RESIDUAL):
            return self._residual(name, module, kids)
        if isinstance(module, SqueezeExcite):
            return self.node(name, module, "se", self._children(name, kids))
        if isinstance(module, AUXILIARY):
            return self.node(name, module, "auxiliary", self._children(name, kids))
        children = self._children(name, kids)
        if role is None:
            blocks = [c for c in children if c["role"] in ("residual", "inception", "plain")]
            role = "stage" if blocks and len(blocks) == len(children) else "sequence"
        return self.node(name, module, role, children)

    def _children(self, name: str, kids: list[tuple[str, nn.Module]]) -> list[dict]:
        return [self.build(f"{name}.{k}" if name else k, m) for k, m in kids]

    def _leaf(self, name: str, module: nn.Module) -> dict[str, Any]:
        grouped = isinstance(module, nn.Conv2d) and 1 < module.groups < module.in_channels
        return self.node(name, module, "grouped" if grouped else "layer", [])

    def _inception(self, name: str, module: nn.Module,
                   kids: list[tuple[str, nn.Module]]) -> dict[str, Any]:
        branches: dict[str, list[dict]] = {}
        rest = []
        for key, child in kids:
            built = self.build(f"{name}.{key}", child)
            if key.startswith("branch"):
                branches.setdefault(_BRANCH_SUFFIX.sub("", key), []).append(built)
            else:
                rest.append(built)
        groups = []
        for key, parts in branches.items():
            if len(parts) == 1:
                groups.append({**parts[0], "role": "branch", "part": parts[0]["role"]})
            else:
                groups.append(self.node(f"{name}.{key}", None, "branch", parts, label=key))
        role = "residual" if isinstance(module, InceptionResidual) else "inception"
        node = self.node(name, module, role, groups + rest)
        if role == "residual":
            node["shortcut"] = "identity: x + scale x (1x1 conv of the branches)"
        return node

    def _residual(self, name: str, module: nn.Module,
                  kids: list[tuple[str, nn.Module]]) -> dict[str, Any]:
        children = [self.build(f"{name}.{k}", m) for k, m in kids if k != "downsample"]
        node = self.node(name, module, "residual", children)
        down = getattr(module, "downsample", None)
        if isinstance(down, nn.Module):
            node["shortcut"] = "projection"
            node["children"].append({**self.build(f"{name}.downsample", down),
                                     "role": "shortcut"})
        elif isinstance(module, CifarBlock) and not module.shortcut:
            node["role"], node["shortcut"] = "plain", None  # the paper's plain net
        elif isinstance(module, CifarBlock) and module.extra:
            node["shortcut"] = "identity, subsampled, with zero channels appended (option A)"
        else:
            node["shortcut"] = "identity"
        return node


BLOCK_ROLES = ("stage", "inception", "residual", "plain", "se", "auxiliary")


def _has_block(node: dict[str, Any]) -> bool:
    return node["role"] in BLOCK_ROLES or any(_has_block(c) for c in node["children"])


def block_tree(model: nn.Module, input_size: tuple[int, int, int], result: Profile
               ) -> dict[str, Any]:
    """The model as nested blocks: each ``{name, label, role, kind, shape, params, macs,
    layer (has an output to look at), filters (a conv), children}``; ``model`` on the meta
    device, ``result`` its profile at ``input_size`` (C, H, W)."""
    builder = _Builder(meta_shapes(model, input_size), _sums(result))
    children = builder._children("", list(model.named_children()))
    blocky = [i for i, c in enumerate(children) if _has_block(c)]
    if blocky:
        first, last = blocky[0], blocky[-1]
        stem, head = children[:first], children[last + 1:]
        middle = children[first:last + 1]
        children = ([builder.node("stem", None, "stem", stem, label="stem")] if stem else []) \
            + middle + ([builder.node("head", None, "head", head, label="head")] if head else [])
    root = builder.node("", model, "model", children)
    root["label"] = getattr(model, "registry_name", type(model).__name__)
    return root
