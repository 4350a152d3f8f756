"""Apply a kernel to an image: grayscale or each channel of RGB, with stride, padding, dilation.

The default backend is OpenCV's ``filter2D``: on a 4096x4096 RGB image it is 10-15x faster than
``scipy.ndimage.correlate`` and torch's CPU ``conv2d`` (benchmarks/results/filters.md), which is
why opencv-python-headless is a runtime dependency. The "scipy" and "numpy" backends compute the
same values and are kept as independent checks (the numpy one is the reference im2col code).

All backends compute a cross-correlation in float32 on the image's own scale (0..255 for 8-bit
images); ``responses_to_pixels`` turns the result into viewable uint8 pixels.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from scipy import ndimage

from cnnlab.convolution.kernels import Kernel, custom_kernel
from cnnlab.convolution.reference import PAD_MODES, windows
from cnnlab.errors import CnnlabError

FILTER_BACKENDS = ("opencv", "scipy", "numpy")
DISPLAY_MODES = ("auto", "clip", "abs", "minmax")
_CV2_BORDERS = {"zero": cv2.BORDER_CONSTANT, "reflect": cv2.BORDER_REFLECT_101,
                "replicate": cv2.BORDER_REPLICATE}

Pads = tuple[int, int, int, int]  # top, bottom, left, right


def dilate(matrix: np.ndarray, dilation: int) -> np.ndarray:
    """Spread a (kh, kw) kernel to (d (kh - 1) + 1, d (kw - 1) + 1) by inserting zeros.

    A dilated kernel reads every d-th pixel; inserting zeros gives the same sums on every backend.
    """
    if dilation < 1:
        raise CnnlabError(f"dilation must be >= 1, got {dilation}")
    kh, kw = matrix.shape
    spread = np.zeros((dilation * (kh - 1) + 1, dilation * (kw - 1) + 1), dtype=matrix.dtype)
    spread[::dilation, ::dilation] = matrix
    return spread


def resolve_padding(padding: int | str, span: tuple[int, int]) -> Pads:
    """Padding as (top, bottom, left, right) for a window of ``span`` (after dilation).

    ``"same"`` keeps the size at stride 1 (the extra row of an even kernel goes below/right, as in
    PyTorch); ``"valid"`` is no padding; an int pads every side by that many pixels.
    """
    if padding == "same":
        (top, left) = ((span[0] - 1) // 2, (span[1] - 1) // 2)
        return top, span[0] - 1 - top, left, span[1] - 1 - left
    if padding == "valid":
        return 0, 0, 0, 0
    if isinstance(padding, str):
        if not padding.isdigit():
            raise CnnlabError(f"padding {padding!r}: use same, valid or a number of pixels")
        padding = int(padding)
    if padding < 0:
        raise CnnlabError(f"padding must be >= 0, got {padding}")
    return padding, padding, padding, padding


def _opencv(image: np.ndarray, matrix: np.ndarray, pads: Pads, mode: str) -> np.ndarray:
    top, bottom, left, right = pads
    kh, kw = matrix.shape
    border = _CV2_BORDERS[mode]
    if top + bottom == kh - 1 and left + right == kw - 1:
        # Same-size output: filter2D pads internally; the anchor says where the window sits.
        return cv2.filter2D(image, cv2.CV_32F, matrix, anchor=(left, top), borderType=border)
    padded = cv2.copyMakeBorder(image, top, bottom, left, right, border, value=0)
    full = cv2.filter2D(padded, cv2.CV_32F, matrix, anchor=(0, 0), borderType=border)
    return full[:padded.shape[0] - kh + 1, :padded.shape[1] - kw + 1]


def _scipy(image: np.ndarray, matrix: np.ndarray, pads: Pads, mode: str) -> np.ndarray:
    padded = _pad(image, pads, mode)
    weights = matrix if image.ndim == 2 else matrix[:, :, None]
    full = ndimage.correlate(padded, weights, mode="constant")
    kh, kw = matrix.shape
    # scipy centres the window on the output pixel; keep the fully-inside positions.
    return full[kh // 2:kh // 2 + padded.shape[0] - kh + 1,
                kw // 2:kw // 2 + padded.shape[1] - kw + 1]


def _numpy(image: np.ndarray, matrix: np.ndarray, pads: Pads, mode: str) -> np.ndarray:
    padded = _pad(image, pads, mode)
    planes = padded if padded.ndim == 2 else np.moveaxis(padded, -1, 0)
    out = np.einsum("...hwij,ij->...hw", windows(planes, matrix.shape), matrix)
    return out if padded.ndim == 2 else np.moveaxis(out, 0, -1)


def _pad(image: np.ndarray, pads: Pads, mode: str) -> np.ndarray:
    top, bottom, left, right = pads
    widths = [(top, bottom), (left, right)] + [(0, 0)] * (image.ndim - 2)
    return np.pad(image, widths, mode=PAD_MODES[mode])


_BACKEND_FUNCS = {"opencv": _opencv, "scipy": _scipy, "numpy": _numpy}


def _check(image: np.ndarray, pads: Pads, span: tuple[int, int], mode: str,
           backend: str) -> None:
    if image.ndim not in (2, 3):
        raise CnnlabError(f"image must be (H, W) or (H, W, C), got shape {image.shape}")
    if mode not in PAD_MODES:
        raise CnnlabError(f"unknown padding mode {mode!r}: use {', '.join(PAD_MODES)}")
    if backend not in FILTER_BACKENDS:
        raise CnnlabError(f"unknown backend {backend!r}: use {', '.join(FILTER_BACKENDS)}")
    height, width = image.shape[:2]
    if mode == "reflect" and (max(pads[:2]) >= height or max(pads[2:]) >= width):
        raise CnnlabError(f"reflect padding {max(pads)} needs an image larger than that, got "
                          f"{height}x{width}")
    if span[0] > height + pads[0] + pads[1] or span[1] > width + pads[2] + pads[3]:
        raise CnnlabError(f"the {span[0]}x{span[1]} window is larger than the padded "
                          f"{height}x{width} image")


def apply_kernel(image: np.ndarray, kernel: Kernel | np.ndarray, stride: int = 1,
                 padding: int | str = "same", padding_mode: str = "zero", dilation: int = 1,
                 backend: str = "opencv") -> np.ndarray:
    """Cross-correlate every channel of ``image`` with ``kernel``.

    Args:
        image: (H, W) or (H, W, C), any real dtype; uint8 stays on its 0..255 scale.
        kernel: a Kernel (a non-linear one such as sobel-magnitude combines its parts) or a
            (kh, kw) matrix.
        stride: step between windows, in pixels.
        padding: "same", "valid" or pixels per side.
        padding_mode: "zero", "reflect" (mirror, edge not repeated) or "replicate".
        dilation: gap between the kernel's taps (1 = dense).

    Returns:
        float32 (H_out, W_out) or (H_out, W_out, C), H_out = (H + pads - span) // stride + 1.
    """
    if not isinstance(kernel, Kernel):
        kernel = custom_kernel(kernel)
    if kernel.parts:
        responses = [apply_kernel(image, part, stride, padding, padding_mode, dilation, backend)
                     for part in kernel.parts]
        return np.sqrt(sum(r * r for r in responses)).astype(np.float32)
    if stride < 1:
        raise CnnlabError(f"stride must be >= 1, got {stride}")
    matrix = dilate(kernel.matrix, dilation).astype(np.float32)
    pads = resolve_padding(padding, matrix.shape)
    image = np.asarray(image)
    _check(image, pads, matrix.shape, padding_mode, backend)
    image = np.ascontiguousarray(image, dtype=np.float32)
    if backend == "opencv" and image.ndim == 3 and image.shape[2] > 4:
        # filter2D handles at most 4 channels; filter the planes one by one.
        planes = [_opencv(np.ascontiguousarray(image[..., c]), matrix, pads, padding_mode)
                  for c in range(image.shape[2])]
        out = np.stack(planes, axis=-1)
    else:
        out = _BACKEND_FUNCS[backend](image, matrix, pads, padding_mode)
    if image.ndim == 3 and out.ndim == 2:  # OpenCV drops a single channel's axis
        out = out[:, :, None]
    return np.ascontiguousarray(out[::stride, ::stride], dtype=np.float32)


def responses_to_pixels(values: np.ndarray, kernel: Kernel | None = None,
                        mode: str = "auto") -> np.ndarray:
    """Turn filter responses (0..255 scale) into uint8 pixels for viewing.

    "clip" clips to 0..255 (kernels whose weights sum to 1 keep the brightness, so this is the
    photo's own scale); "abs" shows |response| clipped at 255 (edge kernels sum to 0 and answer
    with both signs); "minmax" stretches min..max to 0..255. "auto" is "clip" when the kernel's
    weights sum to something other than 0, else "abs" (also without a kernel).
    """
    if mode not in DISPLAY_MODES:
        raise CnnlabError(f"unknown display mode {mode!r}: use {', '.join(DISPLAY_MODES)}")
    mode = resolve_display(kernel, mode) if kernel is not None else mode
    if mode in ("auto", "abs"):
        values = np.abs(values)
    elif mode == "minmax":
        low, high = float(values.min()), float(values.max())
        values = (values - low) * (255.0 / (high - low) if high > low else 0.0)
    return np.clip(np.rint(values), 0, 255).astype(np.uint8)


def resolve_display(kernel: Kernel, mode: str) -> str:
    """The display mode "auto" stands for with this kernel (see ``responses_to_pixels``)."""
    if mode == "auto":
        return "clip" if abs(kernel.sum) > 1e-9 else "abs"
    return mode


@dataclass(frozen=True)
class Filtered:
    """A kernel applied to an image, as ``cnnlab filter`` and the studio show it."""

    values: np.ndarray  # float32 (H_out, W_out[, C]) responses on the image's 0..255 scale
    pixels: np.ndarray  # uint8, same shape: the responses made viewable by ``display``
    display: str  # the display mode used ("auto" resolved to "clip" or "abs")


def filter_image(image: np.ndarray, kernel: Kernel, stride: int = 1, padding: int | str = "same",
                 padding_mode: str = "reflect", dilation: int = 1, display: str = "auto",
                 backend: str = "opencv") -> Filtered:
    """``apply_kernel`` then ``responses_to_pixels``: the one path from a photo and a kernel
    to the picture ``cnnlab filter`` writes and the studio draws (arguments as there)."""
    values = apply_kernel(image, kernel, stride, padding, padding_mode, dilation, backend)
    mode = resolve_display(kernel, display)
    return Filtered(values, responses_to_pixels(values, kernel, mode), mode)
