"""The complexity profile of a model: per-layer and per-block parameters, MACs, memory, fields.

    >>> p = profile(get_model("alexnet"), (3, 227, 227))
    >>> p.params, p.macs, p.share("params", "fc")     # 60,965,224  ~724.4M  0.962

Counting conventions (docs/profiling.md has the details):

* MACs are multiply-accumulates. torch.utils.flop_counter's formulas give FLOPs = 2 x MACs
  for convolution and matrix multiply; cnnlab divides by two. Bias additions, batch norm,
  ReLU, pooling and LRN are not MACs: they are "other operations" (``other_ops``).
* Activations are output elements; bytes use the output's dtype. A layer whose output reuses
  its input's memory (in-place ReLU, dropout at inference, flatten) adds no memory.
* Parameters are counted once, on the first call of the layer that owns them, with weights
  (every parameter not named ``bias``) and biases apart. Modules that do not run in eval mode
  (GoogLeNet's auxiliary classifiers) are left out of the totals and reported in
  ``params_not_run``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import torch
from torch import nn

from cnnlab.complexity.blocks import block_names, group_rows
from cnnlab.complexity.receptive_field import (
    FieldTracker,
    ReceptiveField,
    check_input_size,
    fields_from_walk,
)
from cnnlab.complexity.rows import LayerRow
from cnnlab.complexity.walk import Call, walk
from cnnlab.errors import CnnlabError

_MATMUL_OPS = {"mm", "addmm", "bmm", "baddbmm"}
# Optimizer state, in copies of the parameters: momentum buffer; Adam's two moments.
OPTIMIZER_STATE = {"sgd": 0, "sgd-momentum": 1, "adam": 2}


@dataclass
class Profile:
    """Rows, blocks and totals of one model at one input size (see the module docstring)."""

    model: str
    input_size: tuple[int, int, int]
    batch: int
    dtype: str
    rows: list[LayerRow]
    blocks: list[LayerRow]
    params_not_run: int
    input_bytes: int
    approximate_ops: list[str]

    @property
    def params(self) -> int:
        """Parameters of the layers that ran (weights and biases)."""
        return sum(r.params for r in self.rows)

    @property
    def macs(self) -> int:
        """Multiply-accumulates of one batch (FLOPs are twice this)."""
        return sum(r.macs for r in self.rows)

    @property
    def other_ops(self) -> int:
        """Operations other than multiply-accumulates (ReLU, pooling, batch norm, adds), one batch.

        Counted by the rule in complexity/other_ops.py; the papers' tables leave them out.
        """
        return sum(r.other_ops for r in self.rows)

    def activation_bytes(self, per_image: bool = True) -> int:
        """Bytes of the input plus every layer output that allocates memory (forward pass)."""
        total = self.input_bytes + sum(r.activation_bytes for r in self.rows)
        return total // self.batch if per_image else total

    def activation_count(self, per_image: bool = True) -> int:
        """Elements of the input plus every layer output that allocates memory."""
        total = self.batch * _numel(self.input_size) + sum(r.activations for r in self.rows)
        return total // self.batch if per_image else total

    def share(self, what: str, category: str) -> float:
        """Fraction (0..1) of ``params`` or ``macs`` held by ``conv``, ``fc`` or ``other``."""
        total = self.params if what == "params" else self.macs
        part = sum(getattr(r, what) for r in self.rows if r.category == category)
        return part / total if total else 0.0

    def training_memory(self, optimizer: str = "sgd-momentum") -> dict[str, int]:
        """Bytes for one training step of this batch: an estimate, not a measurement.

        activations: every allocating layer output kept for backward (autograd keeps about one
        tensor per layer); parameters, gradients (one copy) and optimizer state (SGD with
        momentum one copy, Adam two, plain SGD none).
        """
        if optimizer not in OPTIMIZER_STATE:
            raise CnnlabError(f"unknown optimizer {optimizer!r}; use one of "
                              f"{', '.join(OPTIMIZER_STATE)}")
        param_bytes = self.params * _itemsize(self.dtype)
        parts = {"activations": self.activation_bytes(per_image=False),
                 "parameters": param_bytes, "gradients": param_bytes,
                 "optimizer_state": OPTIMIZER_STATE[optimizer] * param_bytes}
        return {**parts, "total": sum(parts.values())}

    def to_dict(self) -> dict:
        """JSON-ready: every row, block and total, numbers unrounded."""
        def row(r: LayerRow) -> dict:
            d = dataclasses.asdict(r)
            d["shape"] = list(r.shape)
            d["field"] = None if r.field is None else {
                "size": list(r.field.size), "jump": list(r.field.jump),
                "start": list(r.field.start), "exact": r.field.exact}
            return d

        return {"model": self.model, "input_size": list(self.input_size), "batch": self.batch,
                "dtype": self.dtype, "params": self.params, "macs": self.macs,
                "flops": 2 * self.macs, "other_ops": self.other_ops,
                "params_not_run": self.params_not_run,
                "activations_per_image": self.activation_count(),
                "activation_bytes_per_image": self.activation_bytes(),
                "shares": {w: {c: self.share(w, c) for c in ("conv", "fc", "other")}
                           for w in ("params", "macs")},
                "training_memory": {o: self.training_memory(o) for o in OPTIMIZER_STATE},
                "approximate_ops": self.approximate_ops,
                "rows": [row(r) for r in self.rows], "blocks": [row(b) for b in self.blocks]}


def profile(model: nn.Module, input_size: tuple[int, int, int] = (3, 224, 224), batch: int = 1,
            blocks: list[str] | None = None) -> Profile:
    """Profile ``model`` on a ``batch x input_size`` (C, H, W) input, on shapes only.

    ``blocks`` names the modules summed into grouped rows (default: inception modules,
    residual stages and other top-level blocks, see ``cnnlab.complexity.blocks``).
    """
    size = check_input_size(input_size)
    if batch < 1:
        raise CnnlabError(f"batch must be at least 1, got {batch}")
    tracker = FieldTracker()
    recorded = walk(model, (batch, *size), tracker)
    fields = fields_from_walk(recorded)
    rows, owned = [], set()
    for call in recorded.calls:
        if call.leaf:
            rows.append(_row(call, fields.get(call.name), owned, batch))
    _accumulate(rows)
    calls = {c.name: c for c in recorded.calls}
    names = block_names(model) if blocks is None else blocks
    grouped = group_rows(rows, names, calls, fields, batch)
    not_run = sum(p.numel() for p in model.parameters() if id(p) not in owned)
    itemsize = torch.empty((), dtype=recorded.dtype).element_size()
    return Profile(model=getattr(model, "registry_name", type(model).__name__),
                   input_size=size, batch=batch, dtype=str(recorded.dtype).replace("torch.", ""),
                   rows=rows, blocks=grouped, params_not_run=not_run,
                   input_bytes=batch * _numel(size) * itemsize,
                   approximate_ops=sorted(tracker.approximate))


def _row(call: Call, field: ReceptiveField | None, owned: set[int], batch: int) -> LayerRow:
    weights = biases = 0
    if call.module is not None and call.first_call:
        for pname, p in call.module.named_parameters(recurse=False):
            if id(p) in owned:
                continue
            owned.add(id(p))
            if pname == "bias":
                biases += p.numel()
            else:
                weights += p.numel()
    numel = _numel(call.shape) if call.allocates and call.shape else 0
    itemsize = torch.empty((), dtype=call.dtype).element_size() if call.dtype else 0
    return LayerRow(name=call.name, kind=call.kind, category=_category(call),
                    shape=tuple(call.shape[1:]), activations=numel,
                    activation_bytes=numel * itemsize, weights=weights, biases=biases,
                    macs=call.flops // 2, other_ops=call.other_ops, field=field)


def _category(call: Call) -> str:
    if isinstance(call.module, nn.modules.conv._ConvNd) or "convolution" in call.ops:
        return "conv"
    if isinstance(call.module, nn.Linear) or _MATMUL_OPS & set(call.ops):
        return "fc"
    return "other"


def _accumulate(rows: list[LayerRow]) -> None:
    params = macs = 0
    for r in rows:
        params, macs = params + r.params, macs + r.macs
        r.cum_params, r.cum_macs = params, macs


def _numel(shape) -> int:
    n = 1
    for s in shape:
        n *= int(s)
    return n


def _itemsize(dtype: str) -> int:
    return torch.empty((), dtype=getattr(torch, dtype)).element_size()
