"""Occlusion sensitivity (Zeiler & Fergus 2014, Fig. 7): slide a gray square over the image
and map how much the probability of the true class drops.

The sliding and batching are Captum's ``Occlusion``; the forward function is the softmax
probability of the class, and the square is mid-gray (0.5 in [0, 1] pixels, normalized like
the model's input). Captum averages the drop of every square position that covers a pixel,
so the map has the input's resolution.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from cnnlab.errors import CnnlabError
from cnnlab.runs import input_normalization
from cnnlab.visualize.attribution import class_target
from cnnlab.visualize.figures import save_heatmap


@dataclass
class OcclusionMap:
    """``drop`` is H x W: mean fall in the class probability (a fraction) when covered."""

    target: dict
    size: int
    stride: int
    drop: np.ndarray

    def to_dict(self) -> dict:
        """The target, the square, and where the drop is largest, as JSON; not the map."""
        y, x = np.unravel_index(int(self.drop.argmax()), self.drop.shape)
        return {"target": self.target, "square": self.size, "stride": self.stride,
                "base_probability": self.target["probability"],
                "max_drop": float(self.drop.max()), "max_drop_yx": [int(y), int(x)],
                "min_drop": float(self.drop.min())}


def gray_value(meta: dict, channels: int) -> torch.Tensor:
    """Mid-gray (0.5) in the model's normalized input space: a C-vector."""
    norm = input_normalization(meta)
    mean = torch.tensor(norm["mean"], dtype=torch.float32)[:channels]
    std = torch.tensor(norm["std"], dtype=torch.float32)[:channels]
    return (0.5 - mean) / std


def occlusion_map(model: nn.Module, x: torch.Tensor, meta: dict, size: int | None = None,
                  stride: int | None = None, target: int | None = None,
                  classes: list[str] | None = None, batch: int = 32) -> OcclusionMap:
    """Probability drop map for one image ``x`` (1 x C x H x W).

    ``size`` and ``stride`` are in input pixels (defaults: H/7 and H/14, rounded, at least 1);
    ``target`` is the true class (predicted when None); ``batch`` occluded copies run at once.
    """
    from captum.attr import Occlusion

    height, width = x.shape[-2:]
    size = size or max(1, round(height / 7))
    stride = stride or max(1, round(height / 14))
    if not 1 <= size <= min(height, width) or stride < 1:
        raise CnnlabError(f"occlusion square {size} and stride {stride} must be at least 1 and "
                          f"the square at most the input size {height}x{width}")
    model.eval()
    info = class_target(model, x, target, classes)
    channels = x.shape[1]
    baseline = gray_value(meta, channels).view(1, channels, 1, 1).expand_as(x).contiguous()

    def probability(batch_x: torch.Tensor) -> torch.Tensor:
        return torch.softmax(model(batch_x).float(), dim=1)[:, info["class"]]

    with torch.no_grad():
        drop = Occlusion(probability).attribute(
            x, sliding_window_shapes=(channels, size, size), strides=(channels, stride, stride),
            baselines=baseline, perturbations_per_eval=batch)
    return OcclusionMap(info, size, stride, drop[0, 0].float().numpy())


def plot_occlusion(result: OcclusionMap, image: np.ndarray, path: str | Path,
                   model_name: str = "") -> Path:
    """Input, drop map (red: covering it lowers the probability) and overlay."""
    t = result.target
    title = (f"{model_name} occlusion {result.size}px/{result.stride}: p({t['name']}) = "
             f"{t['probability']:.2f}, largest drop {result.drop.max():.2f}").strip()
    return save_heatmap(image, result.drop, path, title=title, signed=True)
