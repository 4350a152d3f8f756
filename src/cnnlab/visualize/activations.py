"""Feature maps of any layer for one image: the top-k channels by mean activation.

The maps share one colour scale (0 to the largest value shown), so a brighter map is a
channel that responds more strongly, as in the lecture's stack of activation maps.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from cnnlab.errors import CnnlabError
from cnnlab.models.feature_extraction import check_channel, layer_output
from cnnlab.visualize.figures import save_grid


@dataclass
class ActivationMaps:
    """``maps`` is k x h x w (raw activations) for ``channels``, strongest mean first."""

    layer: str
    shape: tuple[int, ...]
    channels: list[int]
    means: list[float]
    maps: np.ndarray

    def to_dict(self) -> dict:
        """Each shown channel's mean and max as JSON (``--json``); the maps are not included."""
        return {"layer": self.layer, "output_shape": list(self.shape),
                "channels": [{"channel": c, "mean": m, "max": float(a.max())}
                             for c, m, a in zip(self.channels, self.means, self.maps,
                                                strict=True)]}


@torch.no_grad()
def activation_maps(model: nn.Module, layer: str, x: torch.Tensor, top: int = 16,
                    channels: list[int] | None = None) -> ActivationMaps:
    """Feature maps of ``layer`` for one image ``x`` (1 x C x H x W).

    Returns the ``top`` channels with the largest mean activation, or exactly ``channels``.
    """
    if top < 1:
        raise CnnlabError(f"--top must be at least 1, got {top}")
    out = layer_output(model.eval(), layer, x)
    if out.dim() != 4:
        raise CnnlabError(f"layer {layer!r} outputs shape {tuple(out.shape[1:])}, not feature "
                          f"maps C x h x w; pick a conv, pool or block layer")
    maps = out[0].float()
    means = maps.mean(dim=(1, 2))
    if channels:
        picked = [check_channel(c, maps.shape[0], layer) for c in channels]
    else:
        picked = means.argsort(descending=True)[:top].tolist()
    return ActivationMaps(layer, tuple(maps.shape), picked, means[picked].tolist(),
                          maps[picked].numpy())


def plot_activations(acts: ActivationMaps, image: np.ndarray, path: str | Path,
                     model_name: str = "") -> Path:
    """The input image, then one tile per channel; returns the path."""
    scale = max(float(acts.maps.max()), 1e-12)
    tiles = [image] + [np.clip(m / scale, 0, 1) for m in acts.maps]
    titles = ["input"] + [f"ch {c} ({m:.2g})" for c, m in zip(acts.channels, acts.means,
                                                              strict=True)]
    c, h, w = acts.shape
    title = f"{model_name} {acts.layer}: {c}x{h}x{w}, top {len(acts.channels)} by mean".strip()
    return save_grid(tiles, path, titles=titles, title=title, cmap="viridis", tile_inches=1.1)
