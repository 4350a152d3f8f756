"""Classify image files with a trained run (or a zoo model): top-k classes with probabilities.

Preprocessing follows the checkpoint: images become the model's channel count (grayscale for
Fashion-MNIST, ITU-R 601 luma), are resized to its input size (bilinear, antialiased, aspect
ratio not kept), scaled to [0, 1] and normalized with the run's mean and std. Fashion-MNIST
shows light garments on black; with ``invert="auto"`` a photo whose border is mostly light (a
product shot on white) is inverted to match.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from cnnlab.errors import CnnlabError
from cnnlab.imaging import load_image
from cnnlab.runs import input_normalization


@dataclass
class Classification:
    """Top-k of one image: class names and probabilities (fractions), best first."""

    path: str
    classes: list[str]
    probabilities: list[float]
    indices: list[int]

    def to_dict(self) -> dict:
        """The result as JSON (``cnnlab predict --json``): the image and its top-k, best first."""
        return {"image": self.path, "top": [
            {"class": c, "index": i, "probability": p}
            for c, i, p in zip(self.classes, self.indices, self.probabilities, strict=True)]}


def _light_border(gray: np.ndarray) -> bool:
    border = np.concatenate([gray[0], gray[-1], gray[:, 0], gray[:, -1]])
    return float(border.mean()) > 127.5


def preprocess(path: str | Path, meta: dict, invert: str = "auto") -> torch.Tensor:
    """One image file -> 1 x C x H x W float tensor ready for the model."""
    channels = meta["input_size"][0]
    if channels not in (1, 3):
        raise CnnlabError(f"cannot feed images to a model with {channels} input channels")
    return preprocess_array(load_image(path, mode="L" if channels == 1 else "RGB"), meta, invert)


def preprocess_array(array: np.ndarray, meta: dict, invert: str = "auto") -> torch.Tensor:
    """Decoded uint8 pixels, (H, W) for a 1-channel model or (H, W, 3), -> 1 x C x H x W float
    tensor ready for the model (what ``preprocess`` does after reading the file)."""
    channels, height, width = meta["input_size"]
    if channels not in (1, 3):
        raise CnnlabError(f"cannot feed images to a model with {channels} input channels")
    if array.ndim != (2 if channels == 1 else 3):
        raise CnnlabError(f"a {channels}-channel model needs {'gray' if channels == 1 else 'RGB'}"
                          f" pixels, got an array of shape {array.shape}")
    gray = array if array.ndim == 2 else array.mean(axis=2)
    if invert not in ("auto", "yes", "no"):
        raise CnnlabError(f"--invert must be auto, yes or no, got {invert!r}")
    flip = invert == "yes" or (invert == "auto" and meta.get("dataset") == "fashion-mnist"
                               and _light_border(gray))
    x = torch.tensor(array).float().div_(255.0)  # a copy: the caller may pass read-only pixels
    x = x[None, None] if x.dim() == 2 else x.permute(2, 0, 1)[None]
    if flip:
        x = 1.0 - x
    x = F.interpolate(x, size=(height, width), mode="bilinear", antialias=True,
                      align_corners=False)
    norm = input_normalization(meta)
    mean = torch.tensor(norm["mean"]).view(1, -1, 1, 1)
    std = torch.tensor(norm["std"]).view(1, -1, 1, 1)
    return (x - mean) / std


@torch.no_grad()
def classify_tensor(model: torch.nn.Module, meta: dict, x: torch.Tensor, top: int = 5,
                    name: str = "") -> Classification:
    """Top-``top`` classes of one preprocessed image ``x`` (1 x C x H x W), named ``name``."""
    classes = meta.get("classes") or [str(i) for i in range(model.num_classes)]
    model.eval()
    probs = torch.softmax(model(x).float(), dim=1)[0]
    values, indices = probs.topk(min(top, probs.numel()))
    return Classification(name, [classes[i] for i in indices.tolist()], values.tolist(),
                          indices.tolist())


def classify_images(model: torch.nn.Module, meta: dict, paths: list[str | Path], top: int = 5,
                    invert: str = "auto") -> list[Classification]:
    """Top-``top`` classes of each image path; ``model`` maps 1 x C x H x W to 1 x K logits."""
    return [classify_tensor(model, meta, preprocess(path, meta, invert), top, str(path))
            for path in paths]
