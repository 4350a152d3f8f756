"""Every step of a convolution or pooling: each window, its products and their sum, as the
lecture's slides show them (what ``cnnlab trace`` prints).

``trace_conv`` and ``trace_pool`` work on one 2D plane (small inputs: the steps list every
output position); ``trace_layer`` follows the shapes through a many-channel, many-filter layer
(the lecture's 4D-tensor slide) and runs the reference conv2d to confirm them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cnnlab.convolution.reference import conv2d, pad2d, windows
from cnnlab.convolution.shapes import output_size
from cnnlab.errors import CnnlabError

MAX_TRACE_STEPS = 400  # a longer trace is unreadable; use `cnnlab filter` for real images


@dataclass(frozen=True)
class Step:
    """One output position (row, col): the window it reads and what it does with it."""

    row: int
    col: int
    window: np.ndarray  # (kh, kw) values under the kernel, padding included
    products: np.ndarray  # (kh, kw) window * kernel for conv; empty for pooling
    value: float  # the sum of products (+ bias), the max or the mean


@dataclass(frozen=True)
class WindowSteps:
    """Every window of one conv or pooling: the padded input, the kernel (conv only), each
    step and the output."""

    operation: str  # "conv", "max pool" or "avg pool"
    padded: np.ndarray  # (H + 2P, W + 2P)
    kernel: np.ndarray | None
    stride: int
    padding: int
    steps: list[Step]
    output: np.ndarray  # (H_out, W_out)

    def to_dict(self) -> dict:
        """The trace as JSON-ready lists (``--json`` and the studio)."""
        return {"operation": self.operation, "stride": self.stride, "padding": self.padding,
                "padded_input": self.padded.tolist(),
                "kernel": None if self.kernel is None else self.kernel.tolist(),
                "steps": [{"row": s.row, "col": s.col, "window": s.window.tolist(),
                           "products": s.products.tolist(), "value": s.value}
                          for s in self.steps],
                "output": self.output.tolist()}


def _plane(values: np.ndarray, what: str) -> np.ndarray:
    plane = np.asarray(values, dtype=np.float64)
    if plane.ndim != 2:
        raise CnnlabError(f"{what} must be a 2D matrix, got shape {plane.shape}")
    return plane


def _check_steps(shape: tuple[int, int]) -> None:
    if shape[0] * shape[1] > MAX_TRACE_STEPS:
        raise CnnlabError(f"the output is {shape[0]}x{shape[1]} = {shape[0] * shape[1]} positions;"
                          f" a trace prints at most {MAX_TRACE_STEPS} (use a smaller input)")


def trace_conv(image: np.ndarray, kernel: np.ndarray, stride: int = 1, padding: int = 0,
               bias: float = 0.0, padding_mode: str = "zero") -> WindowSteps:
    """Cross-correlate a 2D ``image`` (H, W) with ``kernel`` (kh, kw), keeping every step.

    Output (H_out, W_out) with H_out = (H - kh + 2 padding) / stride + 1, which must be whole.
    """
    image, kernel = _plane(image, "input"), _plane(kernel, "kernel")
    for size, k in zip(image.shape, kernel.shape, strict=True):
        output_size(size, k, stride, padding)
    padded = pad2d(image, padding, padding_mode)
    views = windows(padded, kernel.shape, stride)
    _check_steps(views.shape[:2])
    steps = []
    for row in range(views.shape[0]):
        for col in range(views.shape[1]):
            window = views[row, col].copy()
            products = window * kernel
            steps.append(Step(row, col, window, products, float(products.sum()) + bias))
    output = np.array([s.value for s in steps]).reshape(views.shape[:2])
    return WindowSteps("conv", padded, kernel, stride, padding, steps, output)


def trace_pool(image: np.ndarray, size: int = 2, stride: int | None = None, padding: int = 0,
               op: str = "max") -> WindowSteps:
    """Max or average pooling of a 2D ``image`` (H, W), keeping every window.

    Stride defaults to ``size`` (non-overlapping windows); padding counts as -inf for max and
    as 0 for the mean (PyTorch's defaults).
    """
    if op not in ("max", "avg"):
        raise CnnlabError(f"unknown pooling {op!r}: use max or avg")
    image = _plane(image, "input")
    stride = stride or size
    if padding > size // 2:  # torch refuses it too: a window of padding alone has no value
        raise CnnlabError(f"pool padding {padding} must be at most half the window {size}")
    for extent in image.shape:
        output_size(extent, size, stride, padding)
    padded = pad2d(image, padding, "zero", -np.inf if op == "max" else 0.0)
    views = windows(padded, size, stride)
    _check_steps(views.shape[:2])
    reduce = np.max if op == "max" else np.mean
    steps = [Step(r, c, views[r, c].copy(), np.empty(0), float(reduce(views[r, c])))
             for r in range(views.shape[0]) for c in range(views.shape[1])]
    output = np.array([s.value for s in steps]).reshape(views.shape[:2])
    return WindowSteps(f"{op} pool", padded, None, stride, padding, steps, output)


MAX_TRACE_PLANES = 48  # filters x input channels: one 2D trace each


@dataclass(frozen=True)
class FilterSteps:
    """Every window of a many-channel, many-filter conv: for filter k, one 2D trace per input
    channel; output[k] is their sum plus bias[k] (the lecture's "Multi Channel, Many Filters")."""

    weights: np.ndarray  # (K, C, kh, kw)
    bias: np.ndarray  # (K,)
    stride: int
    padding: int
    planes: list[list[WindowSteps]]  # [filter][channel]
    output: np.ndarray  # (K, H_out, W_out)
    checked: bool  # True when the reference conv2d gives the same output

    def to_dict(self) -> dict:
        """The traces, weights, bias and output as JSON-ready lists (``--json``, the studio)."""
        return {"stride": self.stride, "padding": self.padding, "weights": self.weights.tolist(),
                "bias": self.bias.tolist(), "output": self.output.tolist(),
                "checked": self.checked,
                "filters": [[plane.to_dict() for plane in planes] for planes in self.planes]}


def trace_filters(image: np.ndarray, weights: np.ndarray, bias: np.ndarray | None = None,
                  stride: int = 1, padding: int = 0) -> FilterSteps:
    """Trace K filters of C x kh x kw over a (C, H, W) ``image`` with zero padding.

    Output (K, H_out, W_out): out[k] = sum over c of trace_conv(image[c], weights[k, c]) +
    bias[k], confirmed against the reference conv2d (``checked``).
    """
    image, weights = np.asarray(image, dtype=np.float64), np.asarray(weights, dtype=np.float64)
    if image.ndim != 3 or weights.ndim != 4 or weights.shape[1] != image.shape[0]:
        raise CnnlabError(f"need an input C x H x W and filters K x C x kh x kw with the same C, "
                          f"got {image.shape} and {weights.shape}")
    if weights.shape[0] * weights.shape[1] > MAX_TRACE_PLANES:
        raise CnnlabError(f"{weights.shape[0]} filters x {weights.shape[1]} channels is more "
                          f"than the {MAX_TRACE_PLANES} planes a trace shows")
    bias = np.zeros(weights.shape[0]) if bias is None else np.asarray(bias, dtype=np.float64)
    if bias.shape != (weights.shape[0],):
        raise CnnlabError(f"need one bias per filter ({weights.shape[0]}), got {bias.shape}")
    planes = [[trace_conv(plane, kernel, stride, padding) for plane, kernel in
               zip(image, filt, strict=True)] for filt in weights]
    output = np.stack([sum(t.output for t in traces) + b
                       for traces, b in zip(planes, bias, strict=True)])
    reference = conv2d(image[None], weights, bias, stride=stride, padding=padding)[0]
    checked = bool(np.allclose(reference, output))
    return FilterSteps(weights, bias, stride, padding, planes, output, checked)


@dataclass(frozen=True)
class LayerShapes:
    """Shapes through one conv layer, H x W x C like the lecture, and its cost."""

    input_hwc: tuple[int, int, int]
    filters: int
    kernel: int
    stride: int
    padding: int
    output_hwc: tuple[int, int, int]
    weights: int  # K * F * F * C
    biases: int  # K
    macs: int  # multiply-accumulates for one image: H_out * W_out * K * F * F * C
    checked: bool  # True when the reference conv2d ran and produced output_hwc

    def to_dict(self) -> dict:
        """The shapes and costs as a JSON-ready dict (H x W x C shapes as lists)."""
        return {key: list(v) if isinstance(v, tuple) else v for key, v in vars(self).items()}


def trace_layer(input_hwc: tuple[int, int, int], filters: int, kernel: int, stride: int = 1,
                padding: int = 0, run_limit: int = 2_000_000) -> LayerShapes:
    """Follow a (H, W, C) input through K filters of F x F x C.

    When the layer costs at most ``run_limit`` MACs the reference conv2d runs on random data to
    confirm the output shape (``checked``).
    """
    h, w, c = input_hwc
    if min(filters, kernel) < 1:
        raise CnnlabError(f"filters and kernel size must be >= 1, got {filters} and {kernel}")
    out_h, out_w = (output_size(v, kernel, stride, padding) for v in (h, w))
    macs = out_h * out_w * filters * kernel * kernel * c
    checked = False
    if macs <= run_limit:
        rng = np.random.default_rng(0)
        out = conv2d(rng.standard_normal((1, c, h, w)),
                     rng.standard_normal((filters, c, kernel, kernel)),
                     rng.standard_normal(filters), stride=stride, padding=padding)
        checked = out.shape == (1, filters, out_h, out_w)
    return LayerShapes((h, w, c), filters, kernel, stride, padding, (out_h, out_w, filters),
                      filters * kernel * kernel * c, filters, macs, checked)
