"""Theoretical and effective receptive field of one unit (layer, channel, y, x), on the image.

The theoretical field comes from the profiler (``cnnlab.analysis.receptive_field``): the input
box the unit's arithmetic can reach. The effective field (Luo et al. 2016) is where the unit
actually looks for this image: |d unit / d pixel|, summed over colour channels. It lies inside
the theoretical box by construction and is usually much smaller and centre-weighted.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from cnnlab.errors import CnnlabError
from cnnlab.visualize.figures import save_heatmap
from cnnlab.visualize.layers import check_channel, find_layer, layer_output

Box = tuple[int, int, int, int]  # top, left, bottom, right in input pixels; bottom/right exclusive


def layer_field(model: nn.Module, layer: str, input_size: tuple[int, int, int]) -> object:
    """The profiler's ``ReceptiveField`` of ``layer`` (its first call) for ``input_size``."""
    from cnnlab.analysis.receptive_field import receptive_fields

    find_layer(model, layer)
    fields = receptive_fields(model, tuple(input_size))
    if layer not in fields:
        raise CnnlabError(f"layer {layer!r} has no receptive field (its output is not a tensor)")
    return fields[layer]


def unit_box(field: object, y: int, x: int, clip: bool = False) -> Box:
    """Input box of unit (y, x) of a layer with ``field``; bottom/right exclusive.

    Unclipped, the box can reach outside the image (into the zero padding).
    """
    top, left, bottom, right = field.box(y, x, clip=clip)  # type: ignore[attr-defined]
    return top, left, bottom + 1, right + 1


@dataclass
class ReceptiveFieldMap:
    """``gradient`` is H x W: |d activation / d pixel| summed over input channels.

    ``box`` is the theoretical field clipped to the image; ``effective_box`` the bounding box
    of pixels with at least ``threshold`` of the largest gradient.
    """

    layer: str
    channel: int
    unit: tuple[int, int]
    activation: float
    size: tuple[float, float]
    jump: tuple[float, float]
    box: Box
    gradient: np.ndarray
    effective_box: Box | None
    threshold: float

    def inside_fraction(self) -> float:
        """Share of the gradient mass inside the theoretical box (1.0 when it is exact)."""
        gradient = self.gradient.astype(np.float64)
        total = float(gradient.sum())
        top, left, bottom, right = self.box
        return float(gradient[top:bottom, left:right].sum()) / total if total else 1.0

    def to_dict(self) -> dict:
        return {"layer": self.layer, "channel": self.channel, "unit_yx": list(self.unit),
                "activation": self.activation, "theoretical_size": list(self.size),
                "jump": list(self.jump), "theoretical_box": list(self.box),
                "effective_box": list(self.effective_box) if self.effective_box else None,
                "effective_threshold": self.threshold,
                "gradient_inside_theoretical": self.inside_fraction(),
                "box_convention": "top, left, bottom, right in input pixels; bottom/right "
                                  "exclusive"}


def _bounding_box(mask: np.ndarray) -> Box | None:
    rows, cols = np.nonzero(mask.any(axis=1))[0], np.nonzero(mask.any(axis=0))[0]
    if rows.size == 0:
        return None
    return int(rows[0]), int(cols[0]), int(rows[-1]) + 1, int(cols[-1]) + 1


def receptive_field_map(model: nn.Module, x: torch.Tensor, layer: str,
                        channel: int | None = None, y: int | None = None,
                        x_pos: int | None = None, threshold: float = 0.05) -> ReceptiveFieldMap:
    """Both receptive fields of unit (``layer``, ``channel``, ``y``, ``x_pos``) for image x.

    Defaults: the centre unit of the map, and there the channel with the largest activation.
    """
    model.eval()
    image = x.detach().clone().requires_grad_(True)
    out = layer_output(model, layer, image)
    if out.dim() != 4:
        raise CnnlabError(f"layer {layer!r} has no spatial output (shape "
                          f"{tuple(out.shape[1:])}); pick a conv, pool or block layer")
    h, w = out.shape[-2:]
    y = h // 2 if y is None else y
    x_pos = w // 2 if x_pos is None else x_pos
    if not (0 <= y < h and 0 <= x_pos < w):
        raise CnnlabError(f"unit ({y}, {x_pos}) is outside layer {layer!r}'s {h}x{w} map")
    channel = int(out[0, :, y, x_pos].argmax()) if channel is None else channel
    check_channel(channel, out.shape[1], layer)
    unit = out[0, channel, y, x_pos]
    (grad,) = torch.autograd.grad(unit, image)
    gradient = grad[0].abs().sum(dim=0).float().numpy()
    field = layer_field(model, layer, tuple(x.shape[1:]))
    peak = float(gradient.max())
    effective = _bounding_box(gradient >= threshold * peak) if peak > 0 else None
    return ReceptiveFieldMap(layer, channel, (y, x_pos), float(unit.detach()), field.size, field.jump,
                             unit_box(field, y, x_pos, clip=True), gradient, effective,
                             threshold)


def plot_receptive_field(result: ReceptiveFieldMap, image: np.ndarray, path: str | Path,
                         model_name: str = "") -> Path:
    """Image with the theoretical box (green) and effective box (red), and the gradient map."""
    size = "x".join(str(v) for v in result.size)
    title = (f"{model_name} {result.layer} ch {result.channel} unit {result.unit}: "
             f"theoretical {size} (green), effective (red)").strip()
    boxes = [(result.box, "lime")]
    if result.effective_box:
        boxes.append((result.effective_box, "red"))
    return save_heatmap(image, np.sqrt(result.gradient), path, title=title, boxes=boxes,
                        cmap="magma")
