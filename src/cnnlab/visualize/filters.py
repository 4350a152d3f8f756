"""Kernels of a conv layer as a grid of small pictures, each normalized on its own.

The first layer of an RGB network is drawn in colour (its 3 input channels are R, G, B, as in
Krizhevsky et al. 2012, Fig. 3); a 1-channel layer in gray. A deeper layer has one kernel per
input channel: we show one input channel's slice (``input_channel``) or, by default, the mean
over input channels, which keeps the spatial pattern the filter prefers on average.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from torch import nn

from cnnlab.errors import CnnlabError
from cnnlab.models.feature_extraction import check_channel, find_conv
from cnnlab.visualize.figures import rescale, save_grid


@dataclass
class FilterGrid:
    """Tiles F x kH x kW (gray) or F x kH x kW x 3 (colour), each min-max scaled to [0, 1].

    ``filters`` are the output-channel indices shown; ``low``/``high`` each tile's raw
    weight range before scaling.
    """

    layer: str
    weight_shape: tuple[int, ...]
    mode: str
    filters: list[int]
    tiles: np.ndarray
    low: list[float]
    high: list[float]

    def to_dict(self) -> dict:
        """The grid's description as JSON (``--json``); the tiles are not included."""
        return {"layer": self.layer, "weight_shape": list(self.weight_shape), "mode": self.mode,
                "filters": self.filters, "weight_min": self.low, "weight_max": self.high}


def filter_grid(model: nn.Module, layer: str | None = None, input_channel: int | None = None,
                limit: int = 64) -> FilterGrid:
    """Kernels of conv ``layer`` (the first conv when None), at most ``limit`` filters.

    ``input_channel`` picks one input channel's slice of every kernel instead of the default
    (colour for 3 inputs, gray for 1, mean over inputs otherwise).
    """
    if limit < 1:
        raise CnnlabError(f"--limit must be at least 1, got {limit}")
    name, conv = find_conv(model, layer)
    weight = conv.weight.detach().float().cpu().numpy()  # C_out x C_in/groups x kH x kW
    shown = weight[:limit]
    if input_channel is not None:
        check_channel(input_channel, weight.shape[1], f"{name} (input channels)")
        raw, mode = shown[:, input_channel], f"input channel {input_channel}"
    elif weight.shape[1] == 3:
        raw, mode = shown.transpose(0, 2, 3, 1), "rgb"
    elif weight.shape[1] == 1:
        raw, mode = shown[:, 0], "gray"
    else:
        raw, mode = shown.mean(axis=1), f"mean over {weight.shape[1]} input channels"
    tiles = np.stack([rescale(tile) for tile in raw])
    return FilterGrid(name, tuple(weight.shape), mode, list(range(len(raw))), tiles,
                      [float(t.min()) for t in raw], [float(t.max()) for t in raw])


def plot_filters(grid: FilterGrid, path: str | Path, model_name: str = "") -> Path:
    """Draw the grid as a PNG; returns the path."""
    out, inp, kh, kw = grid.weight_shape
    title = f"{model_name} {grid.layer}: {out} filters {inp}x{kh}x{kw} ({grid.mode})".strip()
    inches = 0.45 if len(grid.filters) > 16 else 0.8
    return save_grid(list(grid.tiles), path, title=title, tile_inches=inches,
                     columns=min(len(grid.filters), 16 if len(grid.filters) > 32 else 8))
