"""Score a model on corrupted copies of its test split: one prediction pass per corruption
and severity, through ``cnnlab.evaluation.predict`` (the pass ``cnnlab evaluate`` uses, so the
clean row is ``cnnlab evaluate``'s number).

Each (corruption, severity) has a generator seeded from the measurement's seed and the
corruption's name, so a seed gives the same corrupted images whatever else is measured.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from dataclasses import dataclass, replace

import torch
from torch import nn

from cnnlab.corruptions import corrupt
from cnnlab.data.folder import FileDataset
from cnnlab.data.loaders import eval_batches
from cnnlab.data.memory import InMemoryDataset
from cnnlab.evaluation.metrics import topk_accuracy
from cnnlab.evaluation.predict import Predictions, ViewSpec, predict
from cnnlab.robustness.scores import Errors
from cnnlab.robustness.settings import RobustnessSettings

CHUNK = 1000  # images corrupted at once: bounds the float copies a corruption makes
Progress = Callable[[str, int], None]  # called with (corruption, severity) before each pass


@dataclass
class Measurement:
    """The clean predictions and the top-1 error (fraction) per corruption and severity."""

    clean: Predictions
    errors: Errors

    @property
    def clean_error(self) -> float:
        return top1_error(self.clean)


def top1_error(preds: Predictions) -> float:
    """1 - top-1 accuracy of predictions, as ``cnnlab evaluate`` computes it."""
    return 1 - topk_accuracy(preds.log_probs, preds.labels, ks=(1,))[0]


def corruption_seed(seed: int, name: str, severity: int) -> int:
    """The seed of one corruption at one severity (stable: from the name, not a position)."""
    return (seed * 1_000_003 + zlib.crc32(name.encode()) * 8 + severity) % 2**63


def corrupted_images(images: torch.Tensor, name: str, severity: int, seed: int,
                     device: torch.device) -> torch.Tensor:
    """uint8 N x C x H x W -> the same images under one corruption (uint8, CPU), computed
    ``CHUNK`` images at a time on ``device``."""
    gen = torch.Generator().manual_seed(corruption_seed(seed, name, severity))
    return torch.cat([corrupt(images[i:i + CHUNK].to(device), name, severity, gen).cpu()
                      for i in range(0, images.shape[0], CHUNK)])


def as_in_memory(data: InMemoryDataset | FileDataset, spec: ViewSpec,
                 batch_size: int) -> InMemoryDataset:
    """The split as uint8 tensors: image files are decoded once, resized and centre-cropped
    as ``cnnlab evaluate --crops center`` sees them."""
    if isinstance(data, InMemoryDataset):
        return data
    spec = spec.resolved(data)
    batches = list(eval_batches(data, batch_size, image_size=spec.size, resize=spec.resize))
    return InMemoryDataset(torch.cat([b.images for b in batches]),
                           torch.cat([b.labels for b in batches]), list(data.classes),
                           data.mean, data.std, data.name)


def measure(model: nn.Module, data: InMemoryDataset, spec: ViewSpec,
            settings: RobustnessSettings, device: torch.device,
            progress: Progress | None = None) -> Measurement:
    """Predict the clean split, then each corruption at each severity (``model`` on
    ``device`` already)."""
    def run(split: InMemoryDataset) -> Predictions:
        return predict(model, split, device=device, batch_size=settings.batch_size, spec=spec)

    clean = run(data)
    errors: Errors = {}
    for name in settings.corruptions:
        errors[name] = {}
        for severity in settings.severities:
            if progress is not None:
                progress(name, severity)
            images = corrupted_images(data.images, name, severity, settings.seed, device)
            errors[name][severity] = top1_error(run(replace(data, images=images)))
    return Measurement(clean, errors)
