"""One output pixel of a kernel applied to a whole image: the window it reads (under any
padding, border and dilation), the products and their sum, written as ``cnnlab trace conv``
writes a step. The studio shows this when the pointer rests on an output pixel.

``steps.trace_conv`` lists every window of a small plane; here only one window of a large
image is read, by index, so a 4000x3000 photo is never padded as a whole.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cnnlab.convolution.apply import resolve_padding
from cnnlab.convolution.reference import PAD_MODES
from cnnlab.convolution.steps import Step
from cnnlab.convolution.steps_text import format_matrix, sum_text
from cnnlab.errors import CnnlabError


@dataclass(frozen=True)
class PixelStep:
    """The step at output (row, col) and where its window lies."""

    step: Step  # window: (kh, kw) input values under the kernel's taps, padding included
    kernel: np.ndarray  # (kh, kw), not dilated
    rows: tuple[int, ...]  # input row read by each kernel row (< 0 or >= H: padding)
    cols: tuple[int, ...]
    pads: tuple[int, int, int, int]  # top, bottom, left, right
    dilation: int

    def lines(self) -> list[str]:
        """The step as ``cnnlab trace conv`` prints it: header, window, sum of products."""
        top, left = self.rows[0] + self.pads[0], self.cols[0] + self.pads[2]
        bottom, right = self.rows[-1] + self.pads[0], self.cols[-1] + self.pads[2]
        every = f", every {self.dilation} (dilation)" if self.dilation > 1 else ""
        padded = " of the padded input" if any(self.pads) else ""
        header = (f"out[{self.step.row},{self.step.col}]: window rows {top}-{bottom}, "
                  f"cols {left}-{right}{every}{padded}")
        return [header, *format_matrix(self.step.window, "    "),
                f"    -> {sum_text(self.step, self.kernel)}"]

    def to_dict(self) -> dict:
        """The step as a JSON-ready dict (the studio's pointer on an output pixel).

        Position, the input rows and columns read, window, kernel, products and the sum.
        """
        return {"row": self.step.row, "col": self.step.col, "rows": list(self.rows),
                "cols": list(self.cols), "window": self.step.window.tolist(),
                "kernel": self.kernel.tolist(), "products": self.step.products.tolist(),
                "value": self.step.value, "lines": self.lines(),
                "product_lines": format_matrix(self.step.products)}


def _source(index: np.ndarray, size: int, mode: str) -> tuple[np.ndarray, np.ndarray]:
    """Input indices for padded positions ``index`` (relative to the image) and a mask of those
    that read the image (False: a zero of zero padding)."""
    inside = (index >= 0) & (index < size)
    if mode == "zero":
        return np.clip(index, 0, size - 1), inside
    if mode == "replicate":
        return np.clip(index, 0, size - 1), np.ones_like(inside)
    # reflect without repeating the edge (OpenCV's BORDER_REFLECT_101, NumPy's "reflect")
    period = 2 * (size - 1) if size > 1 else 1
    folded = np.abs(index) % period
    return np.where(folded < size, folded, period - folded), np.ones_like(inside)


def step_at(plane: np.ndarray, kernel: np.ndarray, row: int, col: int, stride: int = 1,
            padding: int | str = "same", padding_mode: str = "reflect",
            dilation: int = 1) -> PixelStep:
    """The step that makes output pixel (row, col) of ``apply_kernel(plane, kernel, ...)``.

    ``stride``, ``padding``, ``padding_mode`` and ``dilation`` are as in ``apply_kernel``.

    Args:
        plane: one (H, W) channel, any real dtype (0..255 for photos).
        kernel: (kh, kw) matrix.
        row: output row; the output is H_out x W_out as ``apply_kernel`` returns.
        col: output column.

    Raises:
        CnnlabError: a position outside the output, or settings ``apply_kernel`` refuses.
    """
    plane, kernel = np.asarray(plane), np.asarray(kernel, dtype=np.float64)
    if plane.ndim != 2 or kernel.ndim != 2:
        raise CnnlabError(f"step_at needs a 2D plane and kernel, got {plane.shape} and "
                          f"{kernel.shape}")
    if padding_mode not in PAD_MODES:
        raise CnnlabError(f"unknown padding mode {padding_mode!r}: use {', '.join(PAD_MODES)}")
    if min(stride, dilation) < 1:
        raise CnnlabError(f"stride and dilation must be >= 1, got {stride} and {dilation}")
    span = tuple(dilation * (k - 1) + 1 for k in kernel.shape)
    pads = resolve_padding(padding, span)
    size = plane.shape
    if padding_mode == "reflect" and (max(pads[:2]) >= size[0] or max(pads[2:]) >= size[1]):
        raise CnnlabError(f"reflect padding {max(pads)} needs an image larger than that, got "
                          f"{size[0]}x{size[1]}")
    if span[0] > size[0] + pads[0] + pads[1] or span[1] > size[1] + pads[2] + pads[3]:
        raise CnnlabError(f"the {span[0]}x{span[1]} window is larger than the padded "
                          f"{size[0]}x{size[1]} image")
    out = [(size[a] + pads[2 * a] + pads[2 * a + 1] - span[a]) // stride + 1 for a in (0, 1)]
    if not (0 <= row < out[0] and 0 <= col < out[1]):
        raise CnnlabError(f"output pixel ({row}, {col}) is outside the {out[0]}x{out[1]} output")
    rows = row * stride - pads[0] + dilation * np.arange(kernel.shape[0])
    cols = col * stride - pads[2] + dilation * np.arange(kernel.shape[1])
    (src_r, in_r), (src_c, in_c) = _source(rows, size[0], padding_mode), _source(
        cols, size[1], padding_mode)
    window = plane[np.ix_(src_r, src_c)].astype(np.float64) * np.outer(in_r, in_c)
    products = window * kernel
    step = Step(row, col, window, products, float(products.sum()))
    return PixelStep(step, kernel, tuple(int(r) for r in rows), tuple(int(c) for c in cols),
                     pads, dilation)
