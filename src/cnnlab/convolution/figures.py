"""A side-by-side figure: input image, the kernel as a table of weights, the filtered output.

Drawn with Pillow (the convolution package depends on NumPy, SciPy and Pillow only). Weights are
shaded green for positive, red for negative, white for zero.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from cnnlab.convolution.kernels import Kernel
from cnnlab.fileio import atomic_path

PANEL = 320  # pixels: each panel is scaled to this height
_TITLE = 28
_MARGIN = 12


def _font(size: int) -> ImageFont.ImageFont:
    return ImageFont.load_default(size=size)


def _fit(image: np.ndarray) -> Image.Image:
    pil = Image.fromarray(image).convert("RGB")
    width = max(1, round(pil.width * PANEL / pil.height))
    resample = Image.Resampling.NEAREST if pil.height < PANEL // 4 else Image.Resampling.LANCZOS
    return pil.resize((width, PANEL), resample)


def _cell_text(value: float) -> str:
    if float(value).is_integer():
        return str(int(value))
    for denominator in (9, 16, 25, 256):  # the blur kernels' weights read better as fractions
        if abs(value * denominator - round(value * denominator)) < 1e-9:
            return f"{round(value * denominator)}/{denominator}"
    return f"{value:.3g}"


def _kernel_panel(kernel: Kernel) -> Image.Image:
    panel = Image.new("RGB", (PANEL, PANEL), "white")
    if kernel.parts:  # a magnitude of parts: show the first part, the caption names them all
        kernel = kernel.parts[0]
    matrix = kernel.matrix
    rows, cols = matrix.shape
    cell = (PANEL - 2) // max(rows, cols)
    font = _font(max(8, min(28, cell // 3)))
    draw = ImageDraw.Draw(panel)
    peak = float(np.abs(matrix).max()) or 1.0
    for r in range(rows):
        for c in range(cols):
            strength = int(150 * abs(matrix[r, c]) / peak)
            shade = ((255 - strength, 255, 255 - strength) if matrix[r, c] > 0 else
                     (255, 255 - strength, 255 - strength))
            box = (c * cell, r * cell, (c + 1) * cell, (r + 1) * cell)
            draw.rectangle(box, fill=shade, outline="gray")
            draw.text(((box[0] + box[2]) / 2, (box[1] + box[3]) / 2),
                      _cell_text(matrix[r, c]), fill="black", font=font, anchor="mm")
    return panel


def side_by_side(image: np.ndarray, kernel: Kernel, output: np.ndarray, path: str | Path,
                 caption: str = "") -> Path:
    """Write input | kernel | output as one PNG/JPEG, each panel PANEL pixels tall.

    Args:
        image: uint8 (H, W) or (H, W, 3), as read.
        output: uint8 (H_out, W_out[, 3]), already made displayable (``responses_to_pixels``).
        caption: text under the output's title (e.g. the display mode).
    """
    panels = [_fit(image), _kernel_panel(kernel), _fit(output)]
    names = kernel.name if kernel.is_linear else f"{kernel.name} (shown: {kernel.parts[0].name})"
    titles = ["input", f"kernel {names}", f"output {caption}".strip()]
    width = sum(p.width for p in panels) + _MARGIN * (len(panels) + 1)
    figure = Image.new("RGB", (width, PANEL + _TITLE + _MARGIN), "white")
    draw = ImageDraw.Draw(figure)
    font = _font(16)
    x = _MARGIN
    for panel, title in zip(panels, titles, strict=True):
        figure.paste(panel, (x, _TITLE))
        draw.text((x, 6), title[:60], fill="black", font=font)
        x += panel.width + _MARGIN
    path = Path(path)
    with atomic_path(path) as tmp:
        figure.save(tmp, format="JPEG" if path.suffix.lower() in (".jpg", ".jpeg") else "PNG")
    return path
