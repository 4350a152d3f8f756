"""A run's predictions on its test images, for the Runs and Explorer pages: per-class accuracy,
the confusion matrix, and the test images filtered by true and predicted class.

One pass of the library's prediction function (``cnnlab.evaluation.predict``) over the test
images the run was scored on while it trained (the first ``test_subset`` of them when the config
set one, else the whole test split), with the views the run is scored with (the checkpoint's
``eval`` settings, as ``cnnlab evaluate`` uses), on the CPU. The result is kept per run folder
and checkpoint file version, so a run that saves a new checkpoint is scored again, and at most
``KEPT`` runs are held (a CIFAR test split is 30 MB of pixels; image-file datasets keep only
their file names, and an image is decoded when it is shown, as the model saw it: resized and
centre-cropped).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from cnnlab.data.folder import FileDataset
from cnnlab.data.memory import InMemoryDataset
from cnnlab.errors import CnnlabError
from cnnlab.evaluation.crops import file_transform
from cnnlab.evaluation.evaluate import load_for_evaluation, with_saved_views
from cnnlab.evaluation.metrics import confusion_matrix, per_class_accuracy
from cnnlab.evaluation.predict import ViewSpec, predict
from cnnlab.studio.http import ApiError
from cnnlab.studio.lru import LRU
from cnnlab.studio.runfiles import CONFIG, read_json_file

KEPT = 4  # runs whose scores and test images stay in memory
CHECKPOINT_FILES = ("checkpoint.safetensors", "checkpoint.json")


@dataclass(frozen=True)
class RunScores:
    """The test images (in memory, or files read with a centre-crop transform), their labels N,
    the predicted class N and its probability N (float, 0..1), the class names, the views used
    and the checkpoint's epoch."""

    data: InMemoryDataset | FileDataset
    labels: torch.Tensor
    predicted: torch.Tensor
    probability: torch.Tensor
    classes: list[str]
    views: str
    epoch: int | None

    def report(self) -> dict[str, Any]:
        """Accuracy, per-class accuracy and the confusion matrix (row = true class), computed
        by ``cnnlab.evaluation.metrics`` as ``cnnlab evaluate`` does."""
        matrix = confusion_matrix(self.predicted, self.labels, len(self.classes))
        per_class = [None if math.isnan(value) else value  # NaN: a class with no test image
                     for value in per_class_accuracy(matrix).tolist()]
        return {"samples": len(self.labels), "classes": self.classes, "views": self.views,
                "epoch": self.epoch,
                "accuracy": float((self.predicted == self.labels).double().mean()),
                "per_class_accuracy": per_class, "confusion": matrix.tolist()}

    def image(self, index: int) -> np.ndarray:
        """Test image ``index`` as uint8 (H, W) for one channel, else (H, W, C). An image file
        that no longer decodes is a CnnlabError naming it."""
        if isinstance(self.data, InMemoryDataset):
            tensor = self.data.images[index]
        else:
            tensor = self.data[index][0]
        pixels = tensor.permute(1, 2, 0).numpy()
        return pixels[:, :, 0] if pixels.shape[2] == 1 else pixels

    def select(self, label: int | None, predicted: int | None) -> torch.Tensor:
        """Indices (ascending) of the test images with that true and/or predicted class."""
        keep = torch.ones(len(self.labels), dtype=torch.bool)
        if label is not None:
            keep &= self.labels == label
        if predicted is not None:
            keep &= self.predicted == predicted
        return keep.nonzero().flatten()


class ScoreCache:
    """RunScores by (run folder, checkpoint file versions), the ``kept`` most recent. One lock
    per key: two requests for the same run wait for one pass instead of running two."""

    def __init__(self, kept: int = KEPT) -> None:
        self._scores: LRU[tuple, RunScores] = LRU(kept)

    def get(self, run_id: str, folder: Path) -> RunScores:
        """The run's scores, computing them in the calling (worker) thread when not kept."""
        key = (str(folder.resolve()), *_versions(run_id, folder))
        return self._scores.get_or_make(key, lambda: score_run(run_id, folder))


def _versions(run_id: str, folder: Path) -> tuple:
    try:
        stats = [(folder / name).stat() for name in CHECKPOINT_FILES]
    except FileNotFoundError:
        raise ApiError(409, f"run {run_id!r} has no checkpoint yet: it is saved at the end of "
                            f"each epoch") from None
    return tuple((s.st_mtime_ns, s.st_size) for s in stats)


def _relative(message: str, folder: Path) -> str:
    """A library message with the server's paths written relative to the runs folder."""
    for base in {str(folder.resolve().parent), str(folder.parent)}:
        message = message.replace(base.rstrip("/") + "/", "")
    return message


def score_run(run_id: str, folder: Path) -> RunScores:
    """Load the run's checkpoint and dataset and predict its test images (CPU). A checkpoint
    that does not load or a dataset that is not found is a 422 naming the cause."""
    config = read_json_file(folder, CONFIG) or {}
    try:
        model, data, meta = load_for_evaluation(folder)
    except CnnlabError as err:
        raise ApiError(422, f"run {run_id!r} cannot be scored: "
                            f"{_relative(str(err), folder)}") from None
    subset = config.get("test_subset")
    data = data.subset(subset if isinstance(subset, int) and subset > 0 else None)
    spec = with_saved_views(None, meta)
    try:
        preds = predict(model, data, device=torch.device("cpu"), spec=spec,
                        channels_last=bool(config.get("channels_last", False)))
    except CnnlabError as err:  # an image file that does not decode
        raise ApiError(422, f"run {run_id!r} cannot be scored: "
                            f"{_relative(str(err), folder)}") from None
    probability, predicted = preds.log_probs.exp().max(dim=1)
    epoch = (meta.get("metrics") or {}).get("epoch")
    return RunScores(_shown(data, spec), preds.labels, predicted, probability,
                     list(meta["classes"]), spec.mode or "center", epoch)


def _shown(data: InMemoryDataset | FileDataset, spec: ViewSpec) -> InMemoryDataset | FileDataset:
    """Image files as the model saw them in the centre view: resized, centre-cropped, uint8."""
    if isinstance(data, InMemoryDataset):
        return data
    view = spec.resolved(data)
    return data.with_transform(file_transform("center", view.size, view.resize, []), False)


SCORES = ScoreCache()
