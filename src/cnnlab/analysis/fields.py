"""Receptive-field arithmetic on one feature map: compose with a window op, merge paths, globalize.

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
"""

from __future__ import annotations

from dataclasses import dataclass

Pair = tuple[float, float]


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
        """First and last input pixel (inclusive, unclipped) that unit ``index`` sees on ``axis``."""
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
    return Field(_pair(size), _pair(jump), _pair(start))


def shift(field: Field, before: Pair) -> Field:
    """The field after padding ``before`` units at the top / left (start moves back)."""
    start = [field.start[a] - before[a] * field.jump[a] for a in range(2)]
    return Field(field.size, field.jump, _pair(start))


def globalize(field: Field, grid: tuple[int, int]) -> Field:
    """One box covering what every unit of a ``grid`` (height, width) map sees; jump 0."""
    size, start = [], []
    for a in range(2):
        first, _ = field.span(a, 0)
        _, last = field.span(a, grid[a] - 1)
        size.append(last - first + 1)
        start.append((first + last) / 2)
    return Field(_pair(size), (0, 0), _pair(start))


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
    return Field(_pair(size), jump, _pair(start))


def _pair(values: list[float]) -> Pair:
    # Integral values print as ints ("size 11", not "11.0"); half pixels stay floats.
    out = [int(v) if float(v).is_integer() else float(v) for v in values]
    return out[0], out[1]
