"""Walk a model once on shapes only (meta device or fake tensors) and record every layer call.

One pass gives, for every module call and every functional operator called directly inside a
container (``x + identity``, ``torch.cat``): the output's shape and dtype, whether it allocates
new memory, the FLOPs torch.utils.flop_counter's formulas give for its operators, the other
(non multiply-add) operations, and what a ``Tracker`` attached to its output (the receptive
field, ``cnnlab.complexity.receptive_field.FieldTracker``). Nothing is computed: the tensors
carry shapes only, so VGG-19 at 1024x1024 costs no activation memory.
"""

from __future__ import annotations

import contextlib
import dataclasses
from dataclasses import dataclass
from typing import Protocol

import torch
from torch import nn
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_leaves
from torch.utils.flop_counter import flop_registry

from cnnlab.complexity.other_ops import other_ops
from cnnlab.errors import CnnlabError

aten = torch.ops.aten

# Operators that only create, view or alias tensors: they get no row of their own.
_SILENT = {aten.empty, aten.empty_like, aten.zeros, aten.ones, aten.full, aten.view,
           aten._unsafe_view, aten.reshape, aten.t, aten.transpose, aten.expand, aten.detach,
           aten.alias, aten.unsqueeze, aten.squeeze, aten.permute, aten.slice, aten.select,
           aten.lift_fresh, aten.clone, aten._to_copy, aten.flatten, aten.contiguous}


@dataclass
class Call:
    """One layer call (a module's forward, or one functional operator inside a container).

    ``name`` is the module path (``features.0``), ``name#2`` for a module's second call, and
    ``parent.op()`` for a functional operator (``layer1.0.add_()``). ``flops`` are FLOPs as
    torch.utils.flop_counter counts them (2 per multiply-accumulate), for the operators run
    while this call was the innermost one.
    """

    name: str
    kind: str
    module: nn.Module | None
    leaf: bool
    depth: int
    first_call: bool = True
    flops: int = 0
    other_ops: int = 0
    shape: tuple[int, ...] = ()
    dtype: torch.dtype | None = None
    allocates: bool = True
    field: object | None = None  # what the tracker attached to the output
    ops: list[str] = dataclasses.field(default_factory=list)


@dataclass
class Walk:
    """Everything one shape-only pass recorded, in execution order."""

    calls: list[Call]
    input_shape: tuple[int, ...]
    dtype: torch.dtype


class Tracker(Protocol):
    """A value carried on every tensor of a walk, from the input through each aten operator."""

    def start(self, x: torch.Tensor) -> None:
        """Attach the input batch's value to ``x``."""

    def step(self, func, args: tuple, kwargs: dict, out: torch.Tensor) -> None:
        """Attach the value of ``out = func(*args, **kwargs)`` to ``out``."""

    def read(self, tensor: torch.Tensor) -> object | None:
        """The value attached to ``tensor``, or None."""


class _Recorder(TorchDispatchMode):
    """Sees every aten operator; attributes it to the innermost module call."""

    def __init__(self, names: dict[int, str], tracker: Tracker) -> None:
        super().__init__()
        self.names = names
        self.tracker = tracker
        self.calls: list[Call] = []
        self.stack: list[Call] = []
        self.seen: dict[str, int] = {}

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        out = _inference_batch_norm(func, args) or func(*args, **kwargs)
        first_out = next((t for t in tree_leaves(out) if isinstance(t, torch.Tensor)), None)
        if first_out is not None:
            self.tracker.step(func, args, kwargs, first_out)
        self._count(func, args, kwargs, out, first_out)
        return out

    def _count(self, func, args, kwargs, out, first_out) -> None:
        packet = func.overloadpacket
        formula = flop_registry.get(packet)
        flops = int(formula(*args, **kwargs, out_val=out)) if formula is not None else 0
        others = 0 if formula is not None else other_ops(func, args, out)
        owner = self.stack[-1] if self.stack else None
        if owner is not None and not owner.leaf and packet not in _SILENT:
            owner = self._functional_call(owner, packet.__name__, func, args, first_out)
        if owner is not None:
            owner.flops += flops
            owner.other_ops += others
            owner.ops.append(packet.__name__)

    def _functional_call(self, parent: Call, op: str, func, args, out) -> Call:
        name = self._unique(f"{parent.name}.{op}()" if parent.name else f"{op}()")
        in_place = op.endswith("_") and any(out is a for a in args)
        call = Call(name=name, kind=op, module=None, leaf=True, depth=parent.depth + 1,
                    allocates=not in_place)
        if out is not None:
            call.shape, call.dtype, call.field = tuple(out.shape), out.dtype, self.tracker.read(out)
        self.calls.append(call)
        return call

    def _unique(self, name: str) -> str:
        count = self.seen.get(name, 0) + 1
        self.seen[name] = count
        return name if count == 1 else f"{name}#{count}"

    def pre_hook(self, module: nn.Module, inputs) -> None:
        base = self.names.get(id(module), type(module).__name__)
        name = self._unique(base)
        call = Call(name=name, kind=type(module).__name__, module=module,
                    leaf=not any(True for _ in module.children()), depth=len(self.stack),
                    first_call=(name == base))
        self.calls.append(call)
        self.stack.append(call)

    def post_hook(self, module: nn.Module, inputs, output) -> None:
        call = self.stack.pop()
        out = next((t for t in tree_leaves(output) if isinstance(t, torch.Tensor)), None)
        if out is None:
            return
        call.shape, call.dtype, call.field = tuple(out.shape), out.dtype, self.tracker.read(out)
        ins = [t for t in tree_leaves(inputs) if isinstance(t, torch.Tensor)]
        call.allocates = not any(out is t for t in ins) and out._base is None


_BATCH_NORMS = {aten.native_batch_norm.default, aten._native_batch_norm_legit_no_training.default}


def _inference_batch_norm(func, args: tuple):
    """Shapes of an inference batch norm without running torch's meta decomposition.

    torch computes batch norm's meta shapes with a Python decomposition (about 3 ms a call):
    nine tenths of the time to trace ResNet-1202. At inference the output has the input's shape
    and the saved statistics are empty, so cnnlab builds them directly.
    """
    if func not in _BATCH_NORMS:
        return None
    if func is aten.native_batch_norm.default and args[5]:  # training: statistics are computed
        return None
    x = args[0]
    return torch.empty_like(x), x.new_empty((0,)), x.new_empty((0,))


def walk(model: nn.Module, input_shape: tuple[int, ...], tracker: Tracker) -> Walk:
    """Run ``model`` on a shape-only ``input_shape`` (N x C x H x W) batch in eval mode.

    ``tracker`` carries a value (the receptive field) on every tensor; each call records the
    value of its output.

    A model whose parameters are on the meta device runs on meta tensors; any other model runs
    under FakeTensorMode, so its real weights are neither copied nor used.
    """
    params = list(model.parameters()) + list(model.buffers())
    on_meta = bool(params) and all(p.is_meta for p in params)
    floating = [p.dtype for p in params if p.is_floating_point()]
    dtype = floating[0] if floating else torch.float32
    names = {id(m): n for n, m in reversed(list(model.named_modules()))}
    if next(model.children(), None) is None:  # a bare layer is its own only row
        names[id(model)] = type(model).__name__
    recorder = _Recorder(names, tracker)
    handles = [h for m in model.modules() for h in (m.register_forward_pre_hook(recorder.pre_hook),
                                                    m.register_forward_hook(recorder.post_hook))]
    was_training = model.training
    model.eval()
    try:
        with _shape_only(on_meta) as make_input, torch.no_grad():
            x = make_input(input_shape, dtype)
            tracker.start(x)
            with recorder:
                _run(model, x)
    finally:
        for handle in handles:
            handle.remove()
        model.train(was_training)
    return Walk(recorder.calls, tuple(input_shape), dtype)


@contextlib.contextmanager
def _shape_only(on_meta: bool):
    if on_meta:
        yield lambda shape, dtype: torch.empty(shape, dtype=dtype, device="meta")
        return
    from torch._subclasses.fake_tensor import FakeTensorMode

    with FakeTensorMode(allow_non_fake_inputs=True):
        yield lambda shape, dtype: torch.empty(shape, dtype=dtype)


def _run(model: nn.Module, x: torch.Tensor) -> None:
    name = getattr(model, "registry_name", type(model).__name__)
    try:
        model(x)
    except CnnlabError:
        raise
    except (RuntimeError, ValueError, IndexError) as err:
        size = "x".join(str(s) for s in x.shape[1:])
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise CnnlabError(f"{name} cannot run on a {size} input: {first}") from None
