"""Reference CNN layers in plain NumPy: readable first, checked against torch.nn.functional.

Shapes follow PyTorch: images are (N, C, H, W), conv weights (C_out, C_in / groups, kh, kw).
A "convolution" here is a cross-correlation (the kernel is not flipped), as in every CNN library.

Written by hand on purpose: the point is to show the arithmetic (im2col + one matrix product per
group); use torch for speed.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from cnnlab.errors import CnnlabError

Pair = int | tuple[int, int]

# Our padding names -> np.pad modes. "reflect" does not repeat the edge pixel (like torch and
# OpenCV's default BORDER_REFLECT_101); "replicate" repeats it.
PAD_MODES = {"zero": "constant", "reflect": "reflect", "replicate": "edge"}


def _pair(value: Pair, name: str) -> tuple[int, int]:
    pair = (value, value) if isinstance(value, int | np.integer) else tuple(value)
    if len(pair) != 2 or any(int(v) != v for v in pair):
        raise CnnlabError(f"{name} must be an int or a pair of ints, got {value!r}")
    return int(pair[0]), int(pair[1])


def pad2d(x: np.ndarray, padding: Pair, mode: str = "zero", value: float = 0.0) -> np.ndarray:
    """Pad the last two axes of ``x`` by (ph, pw) on each side.

    Args:
        x: (..., H, W).
        padding: rows added above and below, columns added left and right.
        mode: "zero" (the constant ``value``), "reflect" (mirror without repeating the edge) or
            "replicate" (repeat the edge pixel).
    """
    ph, pw = _pair(padding, "padding")
    if mode not in PAD_MODES:
        raise CnnlabError(f"unknown padding mode {mode!r}: use {', '.join(PAD_MODES)}")
    if ph < 0 or pw < 0:
        raise CnnlabError(f"padding must be >= 0, got {(ph, pw)}")
    if mode == "reflect" and (ph >= x.shape[-2] or pw >= x.shape[-1]):
        raise CnnlabError(f"reflect padding {(ph, pw)} needs an input larger than the padding, "
                          f"got {x.shape[-2]}x{x.shape[-1]}")
    widths = [(0, 0)] * (x.ndim - 2) + [(ph, ph), (pw, pw)]
    if mode == "zero":
        return np.pad(x, widths, mode="constant", constant_values=value)
    return np.pad(x, widths, mode=PAD_MODES[mode])


def windows(x: np.ndarray, kernel: Pair, stride: Pair = 1, dilation: Pair = 1) -> np.ndarray:
    """Every window a kernel sees, without copying: (..., H_out, W_out, kh, kw).

    ``x`` is (..., H, W), already padded. Window (i, j) starts at row i * stride and takes every
    ``dilation``-th pixel.
    """
    (kh, kw), (sh, sw), (dh, dw) = _pair(kernel, "kernel"), _pair(stride, "stride"), _pair(
        dilation, "dilation")
    if min(kh, kw, sh, sw, dh, dw) < 1:
        raise CnnlabError(f"kernel, stride and dilation must be >= 1, got {(kh, kw)}, "
                          f"{(sh, sw)}, {(dh, dw)}")
    span_h, span_w = dh * (kh - 1) + 1, dw * (kw - 1) + 1
    if span_h > x.shape[-2] or span_w > x.shape[-1]:
        raise CnnlabError(f"kernel {kh}x{kw} (dilation {dh}x{dw}) is larger than the padded "
                          f"input {x.shape[-2]}x{x.shape[-1]}")
    view = sliding_window_view(x, (span_h, span_w), axis=(-2, -1))
    return view[..., ::sh, ::sw, ::dh, ::dw]


def conv2d(x: np.ndarray, weight: np.ndarray, bias: np.ndarray | None = None,
           stride: Pair = 1, padding: Pair = 0, dilation: Pair = 1, groups: int = 1,
           padding_mode: str = "zero") -> np.ndarray:
    """2D cross-correlation, like ``torch.nn.functional.conv2d``.

    Args:
        x: (N, C_in, H, W).
        weight: (C_out, C_in / groups, kh, kw).
        bias: (C_out,) or None.
        groups: split channels into this many independent convolutions (C_in = C_out = groups
            is a depthwise convolution).

    Returns:
        (N, C_out, H_out, W_out) with H_out = floor((H + 2 ph - dh (kh - 1) - 1) / sh) + 1.
    """
    if x.ndim != 4 or weight.ndim != 4:
        raise CnnlabError(f"conv2d needs x (N,C,H,W) and weight (O,C/g,kh,kw), got "
                          f"{x.shape} and {weight.shape}")
    n, c_in, _, _ = x.shape
    c_out, c_per_group, kh, kw = weight.shape
    if groups < 1 or c_in % groups or c_out % groups or c_in // groups != c_per_group:
        raise CnnlabError(f"groups={groups} does not fit {c_in} input channels, {c_out} filters "
                          f"of depth {c_per_group}")
    cols = windows(pad2d(x, padding, padding_mode), (kh, kw), stride, dilation)
    h_out, w_out = cols.shape[2:4]
    # im2col: each output pixel is one dot product of a (C/g * kh * kw) window with a filter.
    cols = cols.reshape(n, groups, c_per_group, h_out, w_out, kh, kw)
    filters = weight.reshape(groups, c_out // groups, c_per_group, kh, kw)
    out = np.einsum("ngchwij,gocij->ngohw", cols, filters, optimize=True)
    out = out.reshape(n, c_out, h_out, w_out)
    if bias is not None:
        out = out + np.asarray(bias).reshape(1, c_out, 1, 1)
    return out


def _pool_windows(x: np.ndarray, kernel: Pair, stride: Pair | None, padding: Pair,
                  fill: float) -> np.ndarray:
    kh, kw = _pair(kernel, "kernel")
    ph, pw = _pair(padding, "padding")
    if ph > kh // 2 or pw > kw // 2:
        raise CnnlabError(f"pool padding {(ph, pw)} must be at most half the kernel {(kh, kw)}")
    return windows(pad2d(x, (ph, pw), "zero", fill), (kh, kw), stride or kernel)


def max_pool2d(x: np.ndarray, kernel: Pair, stride: Pair | None = None,
               padding: Pair = 0) -> np.ndarray:
    """Max pooling, like ``F.max_pool2d``: (..., H, W) -> (..., H_out, W_out).

    Padding counts as minus infinity, so a padded border never wins. Stride defaults to kernel.
    """
    return _pool_windows(x, kernel, stride, padding, -np.inf).max(axis=(-2, -1))


def avg_pool2d(x: np.ndarray, kernel: Pair, stride: Pair | None = None, padding: Pair = 0,
               count_include_pad: bool = True) -> np.ndarray:
    """Average pooling, like ``F.avg_pool2d``: (..., H, W) -> (..., H_out, W_out).

    With ``count_include_pad`` (torch's default) padded zeros count in the mean's denominator.
    """
    sums = _pool_windows(x, kernel, stride, padding, 0.0).sum(axis=(-2, -1))
    if count_include_pad:
        kh, kw = _pair(kernel, "kernel")
        return sums / (kh * kw)
    ones = np.ones(x.shape[-2:], dtype=x.dtype)
    counts = _pool_windows(ones, kernel, stride, padding, 0.0).sum(axis=(-2, -1))
    return sums / counts


def relu(x: np.ndarray) -> np.ndarray:
    """max(0, x), elementwise; any shape."""
    return np.maximum(x, 0)


def linear(x: np.ndarray, weight: np.ndarray, bias: np.ndarray | None = None) -> np.ndarray:
    """Fully-connected layer, like ``F.linear``: x (..., in) @ weight (out, in).T + bias (out,)."""
    if x.shape[-1] != weight.shape[-1]:
        raise CnnlabError(f"linear: input has {x.shape[-1]} features, weight expects "
                          f"{weight.shape[-1]}")
    out = x @ weight.T
    return out if bias is None else out + bias


def softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    """exp(x) / sum(exp(x)) along ``axis``; the max is subtracted first so exp never overflows."""
    shifted = np.exp(x - x.max(axis=axis, keepdims=True))
    return shifted / shifted.sum(axis=axis, keepdims=True)
