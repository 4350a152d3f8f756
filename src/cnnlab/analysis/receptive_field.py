"""Receptive fields of every layer of a model, right on branching networks.

    >>> fields = receptive_fields(get_model("vgg16"), (3, 224, 224))
    >>> rf = fields["features.29"]           # conv5_3's ReLU
    >>> rf.size, rf.jump, rf.start            # (196, 196), (16, 16), (0, 0)  [pixels]
    >>> rf.box(0, 0)                          # input pixels unit (0, 0) sees, clipped to the image
    >>> input_box(fields, "features.29", 5, 7)

The model runs once on shapes only (meta device or fake tensors; see ``cnnlab.analysis.trace``)
and every aten operator updates the field of the tensor it produces (``field_rules``): windows
compose, merges (add, concatenate) take the union of their inputs' boxes, so a layer after an
inception module or a residual block gets the largest field over its paths, with its jump.
After global pooling, a flatten or a squeeze-and-excitation gate every unit sees the same box:
``jump`` is then 0.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from torch import nn

from cnnlab.analysis.fields import Field
from cnnlab.analysis.trace import Trace, trace
from cnnlab.errors import CnnlabError


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
    return fields_from_trace(trace(model, (1, *check_input_size(input_size))))


def fields_from_trace(recorded: Trace) -> dict[str, ReceptiveField]:
    """The ``receptive_fields`` mapping for an existing trace (the profiler reuses its pass)."""
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
    size = tuple(int(v) for v in input_size)
    if len(size) != 3 or min(size) < 1:
        raise CnnlabError(f"input size must be C x H x W with positive sides, got {input_size}")
    return size  # type: ignore[return-value]
