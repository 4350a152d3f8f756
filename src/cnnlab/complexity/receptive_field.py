"""Receptive fields: the arithmetic, the rule of each operator, every layer's field, one unit.

A feature map's field is described per spatial axis (height, width) by three numbers, in input
pixels (Araujo, Norris & Sim, "Computing Receptive Fields of Convolutional Neural Networks",
Distill 2019):

* ``size``:  how many input pixels one output unit sees along the axis;
* ``jump``:  how far apart (in input pixels) the centres of two neighbouring units are, the
  product of the strides so far;
* ``start``: the centre of unit 0, in input pixel coordinates (pixel 0 spans [-0.5, 0.5]), so
  unit ``i`` sees the pixels ``start + i * jump +- (size - 1) / 2``.

``jump == 0`` means every unit sees the same box: after global pooling, a flatten, or a
squeeze-and-excitation gate, the map no longer has a position. Written by hand because no
library propagates receptive fields through a traced graph; the formulas are the Distill paper's.

    >>> fields = receptive_fields(get_model("vgg16"), (3, 224, 224))
    >>> rf = fields["features.29"]           # conv5_3's ReLU
    >>> rf.size, rf.jump, rf.start            # (196, 196), (16, 16), (0, 0)  [pixels]
    >>> rf.box(0, 0)                          # input pixels unit (0, 0) sees, clipped to the image
    >>> input_box(fields, "features.29", 5, 7)

The model runs once on shapes only (``cnnlab.complexity.walk``) and every aten operator updates
the field of the tensor it produces (``FieldTracker``). Window operators (convolution, pooling,
padding) compose the field with their kernel, stride, padding and dilation; operators that
combine maps (add, cat, mul, batch norm, ReLU) take the union of their inputs' boxes, so a layer
after an inception module or a residual block gets the largest field over its paths, with its
jump; operators that remove the spatial layout (flatten, global pooling, matrix multiply) make
it global. An operator without a rule that changes the spatial grid is treated as global too
(an upper bound), and reported by name.

That is the theoretical field: the input box a unit's arithmetic can reach. The effective field
(Luo et al. 2016, ``receptive_field_map``) is where the unit actually looks for one image:
|d unit / d pixel|, summed over colour channels. It lies inside the theoretical box by
construction and is usually much smaller and centre-weighted.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn
from torch.utils._pytree import tree_leaves

from cnnlab.complexity.walk import Walk, walk
from cnnlab.errors import CnnlabError
from cnnlab.models.feature_extraction import check_channel, find_layer, layer_output

Pair = tuple[float, float]
Box = tuple[int, int, int, int]  # top, left, bottom, right in input pixels; bottom/right exclusive
FIELD_ATTR = "_cnnlab_field"
aten = torch.ops.aten


@dataclass(frozen=True)
class Field:
    """The receptive field of every unit of a feature map (per axis: height, width)."""

    size: Pair
    jump: Pair
    start: Pair
    exact: bool = True  # False once an operator without a rule widened it to a global box

    @classmethod
    def identity(cls) -> Field:
        """The input image itself: every pixel sees itself."""
        return cls(size=(1, 1), jump=(1, 1), start=(0, 0))

    def span(self, axis: int, index: int) -> tuple[float, float]:
        """First and last input pixel (inclusive, unclipped) unit ``index`` sees on ``axis``."""
        centre = self.start[axis] + index * self.jump[axis]
        half = (self.size[axis] - 1) / 2
        return centre - half, centre + half

    def is_global(self) -> bool:
        """True when all units see the same box (no spatial position left)."""
        return self.jump == (0, 0)


def compose(field: Field, kernel: Pair, stride: Pair, padding: Pair,
            dilation: Pair = (1, 1)) -> Field:
    """The field after a sliding window (convolution or pooling) with these settings per axis."""
    size, jump, start = [], [], []
    for a in range(2):
        reach = dilation[a] * (kernel[a] - 1)  # extra input units one window spans
        size.append(field.size[a] + reach * field.jump[a])
        start.append(field.start[a] + (reach / 2 - padding[a]) * field.jump[a])
        jump.append(field.jump[a] * stride[a])
    return Field(_tidy(size), _tidy(jump), _tidy(start))


def shift(field: Field, before: Pair) -> Field:
    """The field after padding ``before`` units at the top / left (start moves back)."""
    start = [field.start[a] - before[a] * field.jump[a] for a in range(2)]
    return Field(field.size, field.jump, _tidy(start))


def globalize(field: Field, grid: tuple[int, int]) -> Field:
    """One box covering what every unit of a ``grid`` (height, width) map sees; jump 0."""
    size, start = [], []
    for a in range(2):
        first, _ = field.span(a, 0)
        _, last = field.span(a, grid[a] - 1)
        size.append(last - first + 1)
        start.append((first + last) / 2)
    return Field(_tidy(size), (0, 0), _tidy(start))


def merge(fields: list[tuple[Field, tuple[int, int]]], grid: tuple[int, int]) -> Field:
    """The field of a map computed from several maps (add, concat, multiply): the union of boxes.

    ``fields`` pairs each input's field with its own grid; ``grid`` is the output's. Inputs on
    the output grid with one common jump give the exact per-unit union (the largest path wins,
    with its jump). Inputs broadcast from another grid, or jumps that disagree, make every unit
    depend on a fixed region, so the result is that region's box with jump 0.
    """
    aligned = [(f if g == grid else globalize(f, g)) for f, g in fields]
    jumps = {f.jump for f in aligned}
    if len(jumps) > 1:
        aligned = [globalize(f, grid) for f in aligned]
        jumps = {(0, 0)}
    (jump,) = jumps
    size, start = [], []
    for a in range(2):
        first = min(f.span(a, 0)[0] for f in aligned)
        last = max(f.span(a, 0)[1] for f in aligned)
        size.append(last - first + 1)
        start.append((first + last) / 2)
    return Field(_tidy(size), jump, _tidy(start))


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


def _tidy(values) -> Pair:
    # Integral values print as ints ("size 11", not "11.0"); half pixels stay floats.
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


class FieldTracker:
    """Carries a ``Field`` on every tensor of a walk (a ``cnnlab.complexity.walk.Tracker``).

    ``approximate`` names the operators without an exact rule that widened a field.
    """

    def __init__(self) -> None:
        self.approximate: set[str] = set()

    def start(self, x: torch.Tensor) -> None:
        """Give the walk's input tensor the identity field (each pixel sees itself)."""
        setattr(x, FIELD_ATTR, Field.identity())

    def step(self, func, args: tuple, kwargs: dict, out: torch.Tensor) -> None:
        """Give ``out`` the field of the operator ``func`` applied to its inputs' fields."""
        found, exact = output_field(func, args, kwargs, out)
        if found is not None:
            setattr(out, FIELD_ATTR, found)
            if not exact:
                self.approximate.add(str(func.overloadpacket.__name__))

    def read(self, tensor: torch.Tensor) -> Field | None:
        """The field a tensor of the walk carries (None: not derived from the input)."""
        return field_of(tensor)


@dataclass(frozen=True)
class ReceptiveField:
    """The receptive field of one layer's output, per axis (height, width), in input pixels.

    size:  input pixels one output unit sees (unclipped: it can exceed the image).
    jump:  distance in input pixels between the centres of neighbouring units (product of
           strides); 0 when every unit sees the same box (global pooling, FC layers, SE gates).
    start: centre of unit (0, 0) in input pixel coordinates (pixel k spans [k - 0.5, k + 0.5]).
    grid:  the output's spatial size (height, width); (1, 1) for vectors.
    image: the input's spatial size (height, width), used to clip boxes.
    exact: False when an operator cnnlab has no rule for changed the grid and the field was
           widened to a global box (an upper bound).
    """

    size: tuple[float, float]
    jump: tuple[float, float]
    start: tuple[float, float]
    grid: tuple[int, int]
    image: tuple[int, int]
    exact: bool = True

    def box(self, y: int, x: int, clip: bool = True) -> tuple[int, int, int, int]:
        """Input pixels seen by output unit (y, x): (top, left, bottom, right), inclusive.

        Unclipped, the box may start below 0 or end past the image (zero padding); clipped,
        it is the part inside the image. Raises CnnlabError if (y, x) is not on the grid.
        """
        if not (0 <= y < self.grid[0] and 0 <= x < self.grid[1]):
            raise CnnlabError(f"unit ({y}, {x}) is outside the {self.grid[0]}x{self.grid[1]} "
                              f"output grid")
        field = Field(self.size, self.jump, self.start)
        (top, bottom), (left, right) = field.span(0, y), field.span(1, x)
        # Half-pixel centres (even windows) cover the pixels their span touches.
        box = [math.floor(top + 0.5), math.floor(left + 0.5), math.ceil(bottom - 0.5),
               math.ceil(right - 0.5)]
        if clip:
            box = [max(box[0], 0), max(box[1], 0), min(box[2], self.image[0] - 1),
                   min(box[3], self.image[1] - 1)]
        return box[0], box[1], box[2], box[3]


def receptive_fields(model: nn.Module, input_size: tuple[int, int, int] = (3, 224, 224)
                     ) -> dict[str, ReceptiveField]:
    """Receptive field of every module's output (and of functional ops inside containers).

    Args:
        model: any nn.Module taking N x C x H x W images (a cnnlab model, torchvision's, yours);
            it is not run for real and its weights are not touched.
        input_size: (C, H, W) of one image.

    Returns:
        ``{name: ReceptiveField}`` in execution order. Keys are module paths as in
        ``model.named_modules()`` (``"features.0"``, ``"inception3a"``, ``"layer1.0"``);
        a module called more than once gets ``"name#2"``, ``"name#3"`` for the later calls;
        functional operators run directly inside a container get ``"parent.op()"``
        (``"layer1.0.add_()"``, ``"inception3a.cat()"``). Calls whose output is not a tensor
        are left out.
    """
    return fields_from_walk(walk(model, (1, *check_input_size(input_size)), FieldTracker()))


def fields_from_walk(recorded: Walk) -> dict[str, ReceptiveField]:
    """The ``receptive_fields`` mapping of a walk made with a ``FieldTracker`` (the profiler
    reuses its own pass)."""
    image = (int(recorded.input_shape[-2]), int(recorded.input_shape[-1]))
    out: dict[str, ReceptiveField] = {}
    for call in recorded.calls:
        if call.field is None or not call.shape or not call.name:
            continue  # no tensor output, or the whole model (its output is the last layer's)
        grid = (int(call.shape[-2]), int(call.shape[-1])) if len(call.shape) >= 3 else (1, 1)
        out[call.name] = ReceptiveField(call.field.size, call.field.jump, call.field.start, grid,
                                        image, call.field.exact)
    return out


def input_box(fields: dict[str, ReceptiveField], layer: str, y: int, x: int,
              clip: bool = True) -> tuple[int, int, int, int]:
    """Input pixels (top, left, bottom, right; inclusive) seen by unit (y, x) of ``layer``."""
    if layer not in fields:
        raise CnnlabError(f"no layer {layer!r}; layers with a receptive field: "
                          f"{', '.join(list(fields)[:8])} ...")
    return fields[layer].box(y, x, clip=clip)


def check_input_size(input_size) -> tuple[int, int, int]:
    """``input_size`` as a (C, H, W) tuple of ints; ``CnnlabError`` unless 3 positive sides."""
    size = tuple(int(v) for v in input_size)
    if len(size) != 3 or min(size) < 1:
        raise CnnlabError(f"input size must be C x H x W with positive sides, got {input_size}")
    return size  # type: ignore[return-value]


def layer_field(model: nn.Module, layer: str, input_size: tuple[int, int, int]
                ) -> ReceptiveField:
    """The ``ReceptiveField`` of ``layer`` (its first call) for ``input_size`` (C, H, W)."""
    find_layer(model, layer)
    fields = receptive_fields(model, tuple(input_size))
    if layer not in fields:
        raise CnnlabError(f"layer {layer!r} has no receptive field (its output is not a tensor)")
    return fields[layer]


def unit_box(field: ReceptiveField, y: int, x: int, clip: bool = False) -> Box:
    """Input box of unit (y, x) of a layer with ``field``; bottom/right exclusive.

    Unclipped, the box can reach outside the image (into the zero padding).
    """
    top, left, bottom, right = field.box(y, x, clip=clip)
    return top, left, bottom + 1, right + 1


@dataclass
class ReceptiveFieldMap:
    """``gradient`` is H x W: |d activation / d pixel| summed over input channels.

    ``box`` is the theoretical field clipped to the image; ``effective_box`` the bounding box
    of pixels with at least ``threshold`` of the largest gradient.
    """

    layer: str
    channel: int
    unit: tuple[int, int]
    activation: float
    size: tuple[float, float]
    jump: tuple[float, float]
    box: Box
    gradient: np.ndarray
    effective_box: Box | None
    threshold: float

    def inside_fraction(self) -> float:
        """Share of the gradient mass inside the theoretical box (1.0 when it is exact)."""
        gradient = self.gradient.astype(np.float64)
        total = float(gradient.sum())
        top, left, bottom, right = self.box
        return float(gradient[top:bottom, left:right].sum()) / total if total else 1.0

    def to_dict(self) -> dict:
        """The unit, both boxes and the gradient share inside the theoretical one, as JSON."""
        return {"layer": self.layer, "channel": self.channel, "unit_yx": list(self.unit),
                "activation": self.activation, "theoretical_size": list(self.size),
                "jump": list(self.jump), "theoretical_box": list(self.box),
                "effective_box": list(self.effective_box) if self.effective_box else None,
                "effective_threshold": self.threshold,
                "gradient_inside_theoretical": self.inside_fraction(),
                "box_convention": "top, left, bottom, right in input pixels; bottom/right "
                                  "exclusive"}


def _bounding_box(mask: np.ndarray) -> Box | None:
    rows, cols = np.nonzero(mask.any(axis=1))[0], np.nonzero(mask.any(axis=0))[0]
    if rows.size == 0:
        return None
    return int(rows[0]), int(cols[0]), int(rows[-1]) + 1, int(cols[-1]) + 1


def receptive_field_map(model: nn.Module, x: torch.Tensor, layer: str,
                        channel: int | None = None, y: int | None = None,
                        x_pos: int | None = None, threshold: float = 0.05) -> ReceptiveFieldMap:
    """Both receptive fields of unit (``layer``, ``channel``, ``y``, ``x_pos``) for image x.

    ``x`` is one normalized image 1 x C x H x W; ``y`` and ``x_pos`` index the layer's map;
    ``threshold`` is the share of the largest gradient that marks the effective field.
    Defaults: the centre unit of the map, and there the channel with the largest activation.
    """
    model.eval()
    image = x.detach().clone().requires_grad_(True)
    out = layer_output(model, layer, image)
    if out.dim() != 4:
        raise CnnlabError(f"layer {layer!r} has no spatial output (shape "
                          f"{tuple(out.shape[1:])}); pick a conv, pool or block layer")
    h, w = out.shape[-2:]
    y = h // 2 if y is None else y
    x_pos = w // 2 if x_pos is None else x_pos
    if not (0 <= y < h and 0 <= x_pos < w):
        raise CnnlabError(f"unit ({y}, {x_pos}) is outside layer {layer!r}'s {h}x{w} map")
    channel = int(out[0, :, y, x_pos].argmax()) if channel is None else channel
    check_channel(channel, out.shape[1], layer)
    unit = out[0, channel, y, x_pos]
    (grad,) = torch.autograd.grad(unit, image)
    gradient = grad[0].abs().sum(dim=0).float().numpy()
    field = layer_field(model, layer, tuple(x.shape[1:]))
    peak = float(gradient.max())
    effective = _bounding_box(gradient >= threshold * peak) if peak > 0 else None
    return ReceptiveFieldMap(layer, channel, (y, x_pos), float(unit.detach()), field.size,
                             field.jump, unit_box(field, y, x_pos, clip=True), gradient,
                             effective, threshold)
