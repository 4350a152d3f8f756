"""Matplotlib drawing shared by every picture: tile grids and heat maps over an image.

All pictures go through ``save_figure`` (atomic write, Agg backend, figure closed after).
Arrays here are NumPy: images H x W x 3 or H x W floats in [0, 1], heat maps H x W.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from cnnlab.plotting import pyplot, save_figure
from cnnlab.runs import input_normalization


def denormalize(x: torch.Tensor, meta: dict) -> np.ndarray:
    """Undo the model's normalization: 1 x C x H x W (or C x H x W) -> H x W x 3 in [0, 1]."""
    x = x.detach().float().cpu()
    x = x[0] if x.dim() == 4 else x
    norm = input_normalization(meta)
    mean = torch.tensor(norm["mean"]).view(-1, 1, 1)
    std = torch.tensor(norm["std"]).view(-1, 1, 1)
    return as_rgb((x * std + mean).clamp(0, 1))


def as_rgb(image: torch.Tensor) -> np.ndarray:
    """C x H x W in [0, 1] -> H x W x 3 NumPy, for imshow."""
    if image.shape[0] != 3:  # gray (or an unusual channel count): one level per pixel
        image = image.mean(dim=0, keepdim=True).expand(3, -1, -1)
    return image.permute(1, 2, 0).numpy()


def rescale(a: np.ndarray) -> np.ndarray:
    """Min-max scale to [0, 1] (a constant array becomes 0.5)."""
    a = np.asarray(a, dtype=np.float64)
    low, high = float(a.min()), float(a.max())
    if high - low < 1e-12:
        return np.full_like(a, 0.5)
    return (a - low) / (high - low)


def save_grid(tiles: Sequence[np.ndarray], path: str | Path, titles: Sequence[str] | None = None,
              title: str = "", cmap: str = "gray", columns: int | None = None,
              tile_inches: float = 1.0) -> Path:
    """Tiles (H x W in [0, 1] drawn with ``cmap``, or H x W x 3 in colour) in a grid."""
    plt = pyplot()
    count = max(len(tiles), 1)
    cols = columns or min(count, max(1, math.ceil(math.sqrt(count))))
    rows = math.ceil(count / cols)
    lines = max((t.count("\n") + 1 for t in titles), default=0) if titles else 0
    extra = 0.15 * lines + (0.1 if titles else 0.0)
    width = cols * tile_inches + 0.2
    title = textwrap.fill(title, width=max(24, int(width * 13)))
    height = rows * (tile_inches + extra) + (0.1 + 0.2 * (title.count("\n") + 1) if title else 0.1)
    fig, axes = plt.subplots(rows, cols, squeeze=False, dpi=100, layout="constrained",
                             figsize=(width, height))
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i >= len(tiles):
            continue
        ax.imshow(tiles[i], cmap=cmap, vmin=0, vmax=1, interpolation="nearest")
        if titles:
            ax.set_title(titles[i], fontsize=7)
    if title:
        fig.suptitle(title, fontsize=9)
    return save_figure(fig, path)


def save_heatmap(image: np.ndarray, heat: np.ndarray, path: str | Path, title: str = "",
                 boxes: Sequence[tuple[tuple[int, int, int, int], str]] = (),
                 cmap: str = "jet", signed: bool = False,
                 detail: np.ndarray | None = None) -> Path:
    """Three panels: the image, the heat map (H x W) and the heat map over the image.

    ``boxes`` are ((top, left, bottom, right), colour) rectangles in pixels, bottom/right
    exclusive, drawn on the first and last panels. ``signed`` centres a diverging colour map
    on zero. ``detail`` (H x W x 3 in [0, 1]) replaces the middle panel, e.g. a gradient
    drawn as a picture.
    """
    plt = pyplot()
    from matplotlib.patches import Rectangle

    fig, axes = plt.subplots(1, 3, figsize=(7.5, 2.9), dpi=100)
    if signed:
        bound = float(np.abs(heat).max()) or 1.0
        shown, kwargs = heat, {"cmap": "bwr", "vmin": -bound, "vmax": bound}
    else:
        shown, kwargs = rescale(heat), {"cmap": cmap, "vmin": 0, "vmax": 1}
    axes[0].imshow(image)
    if detail is None:
        axes[1].imshow(shown, **kwargs)
    else:
        axes[1].imshow(detail)
    axes[2].imshow(image)
    axes[2].imshow(shown, alpha=0.5, **kwargs)
    for ax, label in zip(axes, ("input", "map", "overlay"), strict=True):
        ax.set_title(label, fontsize=8)
        ax.axis("off")
    for i, ((top, left, bottom, right), colour) in enumerate(boxes):
        # Later boxes thinner and dashed, so a box drawn over an equal one stays visible.
        style = {"linewidth": 2.5, "linestyle": "-"} if i == 0 else {"linewidth": 1.2,
                                                                        "linestyle": "--"}
        for ax in (axes[0], axes[2]):
            ax.add_patch(Rectangle((left - 0.5, top - 0.5), right - left, bottom - top,
                                   fill=False, edgecolor=colour, **style))
    if title:
        fig.suptitle(title, fontsize=9)
    fig.tight_layout(pad=0.3, rect=(0, 0, 1, 0.92 if title else 1))
    return save_figure(fig, path)
