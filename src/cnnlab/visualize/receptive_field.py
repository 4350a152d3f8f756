"""The picture of one unit's receptive fields: the image with both boxes, and the gradient map.

The numbers come from ``cnnlab.complexity.receptive_field.receptive_field_map``: the
theoretical box (what the unit's arithmetic can reach) and the effective one (where
|d unit / d pixel| is large for this image).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from cnnlab.complexity.receptive_field import ReceptiveFieldMap
from cnnlab.visualize.figures import save_heatmap


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
