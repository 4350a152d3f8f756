"""The steps as plain text, in the lecture's notation (window value x kernel value)."""

from __future__ import annotations

import numpy as np

from cnnlab.convolution.steps import LayerShapes, Step, WindowSteps


def fmt(value: float) -> str:
    """A number as short as it can be written exactly: 4, -1, 0.1111, -inf."""
    if np.isinf(value):
        return "-inf" if value < 0 else "inf"
    if float(value).is_integer():
        return str(int(value))
    return f"{value:.4g}"


def format_matrix(matrix: np.ndarray, indent: str = "  ") -> list[str]:
    """Rows of right-aligned numbers."""
    cells = [[fmt(v) for v in row] for row in np.asarray(matrix)]
    width = max(len(c) for row in cells for c in row)
    return [indent + " ".join(c.rjust(width) for c in row) for row in cells]


def sum_text(step: Step, kernel: np.ndarray, nonzero_only: bool = False) -> str:
    """One window's sum as the slides write it: ``1×1 + 1×0 + ... = 4`` (window × kernel)."""
    pairs = [(w, k) for w, k in zip(step.window.ravel(), kernel.ravel(), strict=True)
             if not nonzero_only or w * k != 0]
    terms = " + ".join(f"{fmt(w)}×{fmt(k)}" for w, k in pairs)
    skipped = kernel.size - len(pairs)
    if not pairs:
        terms = f"(all {skipped} products are 0)"
    note = f"   ({skipped} zero products not shown)" if pairs and skipped else ""
    extra = step.value - float(step.products.sum())
    bias = f" + {fmt(extra)} (bias)" if extra else ""
    return f"{terms}{bias} = {fmt(step.value)}{note}"


def result_text(trace: WindowSteps, step: Step, nonzero_only: bool = False) -> str:
    """What one step computes, written out: the sum of products for a conv,
    ``max(4, 3, 2, 4) = 4`` or ``mean(...) = 3.25`` for pooling."""
    if trace.kernel is None:
        verb = "max" if trace.operation.startswith("max") else "mean"
        return f"{verb}({', '.join(fmt(v) for v in step.window.ravel())}) = {fmt(step.value)}"
    return sum_text(step, trace.kernel, nonzero_only)


def _step_lines(trace: WindowSteps, step: Step, nonzero_only: bool) -> list[str]:
    kh, kw = step.window.shape
    top, left = step.row * trace.stride, step.col * trace.stride
    header = (f"out[{step.row},{step.col}]: window rows {top}-{top + kh - 1}, "
              f"cols {left}-{left + kw - 1}" + (" of the padded input" if trace.padding else ""))
    result = result_text(trace, step, nonzero_only)
    return [header, *format_matrix(step.window, "    "), f"    -> {result}", ""]


def format_steps(trace: WindowSteps, nonzero_only: bool = False) -> str:
    """All the steps: settings, kernel, every output position, and the output map."""
    ph, pw = trace.padded.shape
    pad = trace.padding
    size = f"{ph - 2 * pad}x{pw - 2 * pad}"
    if trace.kernel is not None:
        kh, kw = trace.kernel.shape
        head = f"{trace.operation}: input {size}, kernel {kh}x{kw}"
    else:
        kh, kw = trace.steps[0].window.shape
        head = f"{trace.operation}: input {size}, window {kh}x{kw}"
    oh, ow = trace.output.shape
    lines = [f"{head}, stride {trace.stride}, padding {pad} -> output {oh}x{ow}",
             f"  ({ph - 2 * pad} - {kh} + 2*{pad})/{trace.stride} + 1 = {oh}", ""]
    if pad:
        lines += ["padded input:", *format_matrix(trace.padded), ""]
    if trace.kernel is not None:
        lines += ["kernel:", *format_matrix(trace.kernel), ""]
    for step in trace.steps:
        lines += _step_lines(trace, step, nonzero_only)
    lines += [f"output ({oh}x{ow}):", *format_matrix(trace.output)]
    return "\n".join(lines)


def format_layer(layer: LayerShapes) -> str:
    """The 4D-tensor view of one conv layer, in the lecture's H x W x C notation."""
    h, w, c = layer.input_hwc
    oh, ow, k = layer.output_hwc
    f, s, p = layer.kernel, layer.stride, layer.padding
    check = ("confirmed by running the NumPy reference conv2d" if layer.checked
             else "not run (too large); computed from the formula")
    return "\n".join([
        f"input            {h}x{w}x{c}        4D tensor N x C x H x W = 1 x {c} x {h} x {w}",
        f"filters          {k} of {f}x{f}x{c}     4D tensor K x C x F x F = {k} x {c} x {f} x {f}",
        f"biases           {k}                one per filter",
        f"each output pixel: a dot product of {f}*{f}*{c} = {f * f * c} numbers, plus a bias",
        (f"each filter slides over the input: ({h} - {f} + 2*{p})/{s} + 1 = {oh} rows, "
        f"({w} - {f} + 2*{p})/{s} + 1 = {ow} columns -> one {oh}x{ow} activation map"),
        f"stack the {k} maps: output {oh}x{ow}x{k}   (N x K x H' x W' = 1 x {k} x {oh} x {ow})",
        (f"parameters       {layer.weights:,} weights + {layer.biases:,} biases = "
        f"{layer.weights + layer.biases:,}"),
        f"cost             {layer.macs:,} MACs per image ({oh}*{ow}*{k} outputs x {f * f * c})",
        f"shape check      {check}",
    ])
