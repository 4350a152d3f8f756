"""Class log-probabilities of a model over a dataset, with centre, 10-crop or multi-scale views.

The one prediction pass: the trainer's per-epoch test error (sharded over processes),
``cnnlab evaluate``, ``cnnlab ensemble`` and the mistakes of a run (``mistakes``) all use it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch
from torch import nn

from cnnlab.data.folder import FileDataset
from cnnlab.data.loaders import eval_batches
from cnnlab.data.memory import InMemoryDataset, normalize
from cnnlab.errors import CnnlabError
from cnnlab.evaluation.crops import (
    CROP_MODES,
    file_transform,
    padded_ten_crops,
    scaled_views,
    shifted_flip_views,
)


@dataclass
class Predictions:
    """log_probs N x K (float32, CPU), labels N; files that failed to decode are listed."""

    log_probs: torch.Tensor
    labels: torch.Tensor
    bad_files: list[str] = field(default_factory=list)


@dataclass
class ViewSpec:
    """How to look at each test image: mode, crop size, resize (shorter side), scales."""

    mode: str | None = "center"  # None: the checkpoint's own (evaluate), else centre
    size: int | None = None  # crop size for image files (default 224)
    resize: int | None = None  # shorter side before cropping (default size * 8/7)
    scales: list[int] = field(default_factory=list)  # multiscale: shorter sides

    def resolved(self, data: InMemoryDataset | FileDataset) -> ViewSpec:
        """The spec with every default filled in for ``data``.

        In-memory images keep their side (no resize); image files default to 224 x 224 crops of
        the image resized to 256 on its shorter side; multiscale to shorter sides 256, 384, 512.
        """
        if self.mode not in CROP_MODES:
            raise CnnlabError(f"unknown crop mode {self.mode!r}: use {', '.join(CROP_MODES)}")
        if isinstance(data, InMemoryDataset):
            side = int(data.images.shape[-1])
            scales = self.scales or [round(side * 7 / 8), side, round(side * 9 / 8)]
            return ViewSpec(self.mode, side, side, scales)
        size = self.size or 224
        resize = self.resize or round(size * 8 / 7)
        return ViewSpec(self.mode, size, resize, self.scales or [256, 384, 512])


def _views(x: torch.Tensor, spec: ViewSpec, in_memory: bool) -> list[torch.Tensor]:
    if spec.mode == "center":
        return [x]
    if spec.mode == "flip":
        return [x, x.flip(-1)]
    if spec.mode == "flipshift":
        return shifted_flip_views(x)
    if spec.mode == "10crop":
        return list(padded_ten_crops(x)) if in_memory else list(x.transpose(0, 1))
    return scaled_views(x, spec.scales)


def _log_mean_softmax(logits: list[torch.Tensor]) -> torch.Tensor:
    """log of the average of softmax(view logits): logsumexp of log-softmaxes minus log V."""
    stacked = torch.stack([torch.log_softmax(v.float(), dim=1) for v in logits])
    return torch.logsumexp(stacked, dim=0) - math.log(len(logits))


@torch.no_grad()
def predict(model: nn.Module, data: InMemoryDataset | FileDataset, *, device: torch.device,
            batch_size: int = 250, spec: ViewSpec | None = None,
            indices: torch.Tensor | None = None, channels_last: bool = False,
            workers: int = 0) -> Predictions:
    """Log of the view-averaged softmax for every sample at ``indices`` (default all), in order."""
    spec = (spec or ViewSpec()).resolved(data)
    in_memory = isinstance(data, InMemoryDataset)
    model.eval()
    transform = None if in_memory else file_transform(spec.mode, spec.size, spec.resize,
                                                      spec.scales)
    if spec.mode == "multiscale" and not in_memory:
        batch_size = 1  # whole images differ in size
    outputs, labels, bad = [], [], []
    for batch in eval_batches(data, batch_size, indices=indices, workers=workers,
                              transform=transform):
        bad += batch.bad_files
        if batch.labels.numel() == 0:
            continue
        x = batch.images.to(device, non_blocking=True)
        views = _views(x, spec, in_memory)
        logits = [model(normalize(v, data.mean, data.std, channels_last)).float()
                  for v in views]
        outputs.append(_log_mean_softmax(logits).cpu())
        labels.append(batch.labels)
    if not outputs:
        raise CnnlabError(f"{data.name}: no test images could be evaluated")
    return Predictions(torch.cat(outputs), torch.cat(labels), bad)
