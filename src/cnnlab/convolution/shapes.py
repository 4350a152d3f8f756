"""Output-size arithmetic: (W - F + 2P) / S + 1 through a stack of layers.

A layer stack is written as short specs, one per layer (see ``parse_layer``):
``conv:96,11,4,0`` (96 filters of 11x11, stride 4, padding 0), ``pool:3,2`` (3x3 max pooling,
stride 2), ``avgpool:7,1``, ``fc:4096``, and the shape-preserving ``relu`` and ``norm``.
Sizes are written H x W x C like the lecture (32x32x3).
"""

from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass

from cnnlab.errors import CnnlabError

ROUNDINGS = ("strict", "floor", "ceil")
# How many numbers each layer kind takes (at least, at most).
_ARITY = {"conv": (2, 5), "pool": (1, 3), "maxpool": (1, 3), "avgpool": (1, 3), "fc": (1, 1),
          "relu": (0, 0), "norm": (0, 0)}


def _fits_hint(size: int, kernel: int, stride: int, padding: int) -> str:
    """Nearby paddings and input sizes that make the division exact."""
    pads = [p for p in range(kernel + 1) if (size - kernel + 2 * p) % stride == 0][:2]
    sizes = [s for s in range(max(kernel, size - stride), size + stride + 1)
             if (s - kernel + 2 * padding) % stride == 0 and s != size][:2]
    hints = []
    if pads:
        hints.append("padding " + " or ".join(map(str, pads)))
    if sizes:
        hints.append("input size " + " or ".join(map(str, sizes)))
    return "; it fits with " + ", or ".join(hints) if hints else ""


def output_size(size: int, kernel: int, stride: int = 1, padding: int = 0, dilation: int = 1,
                rounding: str = "strict") -> int:
    """(size - F + 2P) / S + 1 with F = dilation * (kernel - 1) + 1, in pixels.

    Args:
        rounding: "strict" refuses a non-integer result (the filter does not tile the input);
            "floor" drops the last partial window (PyTorch's conv and pooling); "ceil" keeps it
            (pooling with ceil_mode=True, Caffe).

    Raises:
        CnnlabError: non-integer result under "strict", or a kernel larger than the padded input.
    """
    if rounding not in ROUNDINGS:
        raise CnnlabError(f"unknown rounding {rounding!r}: use {', '.join(ROUNDINGS)}")
    if min(size, kernel, stride, dilation) < 1 or padding < 0:
        raise CnnlabError(f"sizes must be positive and padding >= 0, got size={size} "
                          f"kernel={kernel} stride={stride} padding={padding}")
    span = dilation * (kernel - 1) + 1
    numerator = size - span + 2 * padding
    formula = f"({size} - {span} + 2*{padding})/{stride} + 1"
    if numerator < 0:
        raise CnnlabError(f"{formula}: the {span}x{span} window is larger than the padded input "
                          f"{size + 2 * padding}")
    if numerator % stride and rounding == "strict":
        raise CnnlabError(f"{formula} = {numerator / stride + 1:g} is not an integer: the "
                          f"window does not tile the input{_fits_hint(size, span, stride, padding)}"
                          f" (or use rounding floor, as PyTorch does)")
    steps = math.ceil(numerator / stride) if rounding == "ceil" else numerator // stride
    return steps + 1


@dataclass(frozen=True)
class LayerSpec:
    """One parsed layer: ``kind`` with its numbers (filters, kernel, stride, padding, dilation)."""

    text: str
    kind: str
    filters: int = 0
    kernel: int = 1
    stride: int = 1
    padding: int = 0
    dilation: int = 1


def parse_layer(text: str) -> LayerSpec:
    """Parse one spec: conv:K,F[,S[,P[,D]]] | pool:F[,S[,P]] | avgpool:F[,S[,P]] | fc:N | relu.

    K filters of F x F, stride S (conv default 1, pool default F), padding P (default 0),
    dilation D (default 1).
    """
    kind, _, args = text.strip().lower().partition(":")
    if kind not in _ARITY:
        raise CnnlabError(f"unknown layer {text!r}: use conv:K,F[,S[,P[,D]]], pool:F[,S[,P]], "
                          "avgpool:F[,S[,P]], fc:N, relu or norm")
    if not re.fullmatch(r"(\d+(,\d+)*)?", args):
        raise CnnlabError(f"layer {text!r}: the numbers after ':' must be integers split by ','")
    numbers = [int(v) for v in args.split(",")] if args else []
    least, most = _ARITY[kind]
    if not least <= len(numbers) <= most:
        raise CnnlabError(f"layer {text!r}: {kind} takes {least} to {most} numbers, got "
                          f"{len(numbers)}")
    padding_at = 3 if kind == "conv" else 2  # the one number that may be 0
    if any(v < 1 for i, v in enumerate(numbers) if i != padding_at):
        raise CnnlabError(f"layer {text!r}: sizes, strides and counts must be >= 1")
    if kind == "conv":
        return LayerSpec(text, kind, *numbers)
    if kind in ("pool", "maxpool", "avgpool"):
        kernel = numbers[0]
        stride = numbers[1] if len(numbers) > 1 else kernel  # pooling windows do not overlap
        padding = numbers[2] if len(numbers) > 2 else 0
        return LayerSpec(text, "avgpool" if kind == "avgpool" else "maxpool", 0, kernel,
                         stride, padding)
    if kind == "fc":
        return LayerSpec(text, kind, filters=numbers[0])
    return LayerSpec(text, kind)


def parse_size(text: str) -> tuple[int, int, int]:
    """``"227x227x3"`` -> (227, 227, 3); ``"28x28"`` means one channel."""
    match = re.fullmatch(r"\s*(\d+)\s*[xX*]\s*(\d+)\s*(?:[xX*]\s*(\d+))?\s*", text)
    if not match or min(int(v) for v in match.groups() if v) < 1:
        raise CnnlabError(f"input size {text!r}: write H x W x C, e.g. 227x227x3 or 28x28")
    height, width, channels = match.groups()
    return int(height), int(width), int(channels or 1)


@dataclass(frozen=True)
class ShapeRow:
    """One layer's output: size H x W x C, the formula, weights, biases, activations."""

    layer: str
    formula: str
    output: tuple[int, int, int]
    weights: int
    biases: int

    @property
    def activations(self) -> int:
        """Elements of the output tensor for one image (the lecture's "memory")."""
        h, w, c = self.output
        return h * w * c

    def to_dict(self) -> dict:
        """The row as a JSON-ready dict, activations included (``cnnlab shape --json``)."""
        return {**asdict(self), "output": list(self.output), "activations": self.activations}


def _spatial(size: tuple[int, int, int], spec: LayerSpec, rounding: str) -> tuple[int, int, str]:
    h, w, _ = size
    try:
        out = [output_size(v, spec.kernel, spec.stride, spec.padding, spec.dilation, rounding)
               for v in (h, w)]
    except CnnlabError as err:
        raise CnnlabError(f"layer {spec.text!r} on {h}x{w}x{size[2]}: {err}") from None
    span = spec.dilation * (spec.kernel - 1) + 1
    formula = f"({h} - {span} + 2*{spec.padding})/{spec.stride} + 1 = {out[0]}"
    return out[0], out[1], formula


def shape_stack(size: tuple[int, int, int], layers: list[LayerSpec],
                rounding: str = "strict") -> list[ShapeRow]:
    """Output size of each layer in turn, with its parameter count (weights and biases).

    fc flattens its input; a conv's weights are F * F * C_in * K, its biases K.
    """
    rows = []
    for spec in layers:
        h, w, c = size
        if spec.kind == "conv":
            oh, ow, formula = _spatial(size, spec, rounding)
            size = (oh, ow, spec.filters)
            weights, biases = spec.kernel * spec.kernel * c * spec.filters, spec.filters
        elif spec.kind in ("maxpool", "avgpool"):
            oh, ow, formula = _spatial(size, spec, rounding)
            size, weights, biases = (oh, ow, c), 0, 0
        elif spec.kind == "fc":
            formula = f"{h}*{w}*{c} = {h * w * c} inputs -> {spec.filters}"
            size = (1, 1, spec.filters)
            weights, biases = h * w * c * spec.filters, spec.filters
        else:
            formula, weights, biases = "same size", 0, 0
        rows.append(ShapeRow(spec.text, formula, size, weights, biases))
    return rows


def size_formula(size: int, kernel: int, stride: int, pads: tuple[int, int],
                 dilation: int = 1) -> tuple[int, str]:
    """The output size along one axis and the formula with the numbers filled in.

    ``(W - F + 2P)/S + 1`` when both sides get P pixels, ``(W - F + P1 + P2)/S + 1`` when they
    differ (an even kernel with "same" padding); F is the dilated span. A division that is not
    whole is floored, as ``apply_kernel`` and PyTorch do: ``floor((...)/S) + 1``.

    Raises:
        CnnlabError: the window is larger than the padded input.
    """
    span = dilation * (kernel - 1) + 1
    numerator = size - span + pads[0] + pads[1]
    pad_text = f"2*{pads[0]}" if pads[0] == pads[1] else f"{pads[0]} + {pads[1]}"
    ratio = f"({size} - {span} + {pad_text})/{stride}"
    if numerator < 0 or stride < 1:
        raise CnnlabError(f"{ratio} + 1: the {span}-pixel window is larger than the padded "
                          f"input {size + pads[0] + pads[1]}" if stride >= 1 else
                          f"stride must be >= 1, got {stride}")
    out = numerator // stride + 1
    return out, (f"floor({ratio}) + 1 = {out}" if numerator % stride else f"{ratio} + 1 = {out}")
