"""What every picture starts from: a model (run folder or zoo name) and a class.

The image is ``cnnlab.inference.classify.preprocess``: the same input ``cnnlab predict`` feeds.

Also where the numbers behind a picture go: ``save_array`` writes a .npy beside the PNG.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from torch import nn

from cnnlab.errors import CnnlabError
from cnnlab.fileio import atomic_path
from cnnlab.runs import resolve_model


def load_subject(spec: str, weights: str | None = None,
                 size: int | None = None) -> tuple[nn.Module, dict]:
    """``cnnlab.runs.resolve_model``, then an optional square input side ``size``.

    A smaller ``size`` makes ImageNet models quick to inspect (tests use 64 or 96 pixels).
    """
    model, meta = resolve_model(spec, weights=weights)
    if size is not None:
        if size < 1:
            raise CnnlabError(f"--size must be a positive number of pixels, got {size}")
        meta = {**meta, "input_size": [meta["input_size"][0], size, size]}
    channels = meta["input_size"][0]
    if meta.get("normalization") is None and channels != 3:
        # preprocess() falls back to ImageNet's 3-channel statistics, which would turn a
        # gray image into 3 channels; a zoo model of another width gets neutral ones.
        meta = {**meta, "normalization": {"mean": [0.5] * channels, "std": [0.5] * channels}}
    model.registry_name = getattr(model, "registry_name", meta.get("model", spec))
    return model, meta


def parse_target(value: str | None, meta: dict) -> int | None:
    """A class given as an index or a name (case-insensitive); None stays None."""
    if value is None:
        return None
    if value.lstrip("-").isdigit():
        return int(value)
    classes = meta.get("classes") or []
    lowered = [c.lower() for c in classes]
    if value.lower() in lowered:
        return lowered.index(value.lower())
    known = f"; classes: {', '.join(classes)}" if classes else " (this model has no class names)"
    raise CnnlabError(f"unknown class {value!r}: give an index{known}")


def save_array(array: np.ndarray, png: str | Path) -> Path:
    """Write ``array`` as ``<png without .png>.npy`` atomically; returns that path."""
    path = Path(png).with_suffix(".npy")
    with atomic_path(path) as tmp, open(tmp, "wb") as handle:
        np.save(handle, np.asarray(array))
    return path
