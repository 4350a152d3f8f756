"""How each aten operator changes the receptive field of the tensors it reads.

Window operators (convolution, pooling, padding) compose the field with their kernel, stride,
padding and dilation; operators that combine maps (add, cat, mul, batch norm, ReLU) merge the
fields of their inputs; operators that remove the spatial layout (flatten, global pooling,
matrix multiply) make it global. An operator this table does not know and that changes the
spatial grid is treated as global too (an upper bound), and reported by name.
"""

from __future__ import annotations

import dataclasses

import torch
from torch.utils._pytree import tree_leaves

from cnnlab.analysis.fields import Field, compose, globalize, merge, shift

FIELD_ATTR = "_cnnlab_field"
aten = torch.ops.aten

# Operators that drop the spatial layout on purpose: making the field global is exact for them.
_EXACT_GLOBAL = {aten.view, aten._unsafe_view, aten.reshape, aten.mean, aten.sum, aten.amax,
                 aten.mm, aten.addmm, aten.bmm, aten.squeeze, aten.unsqueeze, aten.flatten,
                 aten._adaptive_avg_pool2d, aten.adaptive_max_pool2d}


def field_of(tensor: object) -> Field | None:
    """The field attached to a traced tensor, or None (weights, constants, untraced tensors)."""
    return getattr(tensor, FIELD_ATTR, None) if isinstance(tensor, torch.Tensor) else None


def grid_of(tensor: torch.Tensor) -> tuple[int, int]:
    """The spatial grid (height, width) of an N x C x H x W map; (1, 1) for vectors."""
    if tensor.dim() < 3:
        return 1, 1
    return int(tensor.shape[-2]), int(tensor.shape[-1])


def output_field(func, args: tuple, kwargs: dict, out: torch.Tensor) -> tuple[Field | None, bool]:
    """The field of ``out = func(*args, **kwargs)`` and whether this operator's rule is exact.

    Returns (None, True) when no input carries a field. The field's own ``exact`` is False when
    this rule or any rule before it on the way from the input was an upper bound.
    """
    traced = [t for t in tree_leaves((args, kwargs)) if field_of(t) is not None]
    if not traced:
        return None, True
    field, exact = _rule(func, args, traced, out)
    inherited = all(field_of(t).exact for t in traced)
    return dataclasses.replace(field, exact=exact and inherited), exact


def _rule(func, args: tuple, traced: list[torch.Tensor], out: torch.Tensor) -> tuple[Field, bool]:
    packet = func.overloadpacket
    first = args[0] if args else None
    window = _WINDOWS.get(packet)
    if window is not None and field_of(first) is not None and first.dim() >= 4:
        field = window(field_of(first), first, args, out)
        if field is not None:
            return field, True
    inputs = [(field_of(t), grid_of(t)) for t in traced]
    out_grid = grid_of(out)
    if out.dim() >= 3 and any(t.dim() >= 3 and grid_of(t) == out_grid for t in traced):
        return merge(inputs, out_grid), True
    flat = [(globalize(f, g), g) for f, g in inputs]
    exact = out.dim() < 3 or packet in _EXACT_GLOBAL or out_grid == (1, 1)
    return merge(flat, out_grid), exact


def _axes(value, default: tuple[int, int]) -> tuple[int, int]:
    """Height and width settings from an int or a list of 1, 2 or 3 (depth first) values."""
    if value is None or (isinstance(value, (list, tuple)) and len(value) == 0):
        return default
    if isinstance(value, int):
        return value, value
    values = [int(v) for v in value]
    return (values[0], values[0]) if len(values) == 1 else (values[-2], values[-1])


def _arg(args: tuple, index: int, default):
    return args[index] if len(args) > index else default


def _convolution(field: Field, x, args, out) -> Field | None:
    if _arg(args, 6, False):  # transposed: spreads a unit over several outputs, not handled
        return None
    kernel = (int(args[1].shape[-2]), int(args[1].shape[-1]))
    return compose(field, kernel, _axes(_arg(args, 3, 1), (1, 1)),
                   _axes(_arg(args, 4, 0), (0, 0)), _axes(_arg(args, 5, 1), (1, 1)))


def _pool(field: Field, x, args, out) -> Field:
    kernel = _axes(args[1], (1, 1))
    stride = _axes(_arg(args, 2, None), kernel)
    return compose(field, kernel, stride, _axes(_arg(args, 3, 0), (0, 0)),
                   _axes(_arg(args, 4, 1), (1, 1)))


def _avg_pool(field: Field, x, args, out) -> Field:
    kernel = _axes(args[1], (1, 1))
    stride = _axes(_arg(args, 2, None), kernel)
    return compose(field, kernel, stride, _axes(_arg(args, 3, 0), (0, 0)))


def _adaptive(field: Field, x, args, out) -> Field:
    grid_in, grid_out = grid_of(x), grid_of(out)
    if grid_out == (1, 1):
        return globalize(field, grid_in)
    # torch's window i spans [floor(i*n/m), ceil((i+1)*n/m)); the widest one is the kernel.
    kernel, stride, first_centre = [], [], []
    for n, m in zip(grid_in, grid_out, strict=True):
        kernel.append(max(-(-(i + 1) * n // m) - (i * n // m) for i in range(m)))
        stride.append(n / m)
        first_centre.append((-(-n // m) - 1) / 2)
    size = tuple(field.size[a] + (kernel[a] - 1) * field.jump[a] for a in range(2))
    start = tuple(field.start[a] + first_centre[a] * field.jump[a] for a in range(2))
    jump = tuple(field.jump[a] * stride[a] for a in range(2))
    return Field(*(_tidy(v) for v in (size, jump, start)))


def _pad(field: Field, x, args, out) -> Field:
    pad = list(args[1])
    before = (pad[2] if len(pad) > 2 else 0, pad[0] if pad else 0)  # pad lists W first, then H
    return shift(field, before)


def _slice(field: Field, x, args, out) -> Field:
    """``x[..., a::s]`` on a spatial axis: unit i is input unit a + i * s (strided shortcut)."""
    dim = _arg(args, 1, 0)
    dim = dim + x.dim() if dim < 0 else dim
    axis = dim - (x.dim() - 2)
    if axis < 0:
        return field  # channels or batch: positions unchanged
    first = _arg(args, 2, None) or 0
    first = first + int(x.shape[dim]) if first < 0 else first
    step = _arg(args, 4, 1)
    start, jump = list(field.start), list(field.jump)
    start[axis] = start[axis] + first * jump[axis]
    jump[axis] = jump[axis] * step
    return Field(field.size, _tidy(jump), _tidy(start))


def _tidy(values: tuple) -> tuple:
    return tuple(int(v) if float(v).is_integer() else float(v) for v in values)


_WINDOWS = {
    aten.convolution: _convolution,
    aten._convolution: _convolution,
    aten.max_pool2d_with_indices: _pool,
    aten.max_pool2d: _pool,
    aten.max_pool3d_with_indices: _pool,
    aten.avg_pool2d: _avg_pool,
    aten.avg_pool3d: _avg_pool,
    aten._adaptive_avg_pool2d: _adaptive,
    aten.adaptive_max_pool2d: _adaptive,
    aten.constant_pad_nd: _pad,
    aten.reflection_pad2d: _pad,
    aten.replication_pad2d: _pad,
    aten.slice: _slice,
}
