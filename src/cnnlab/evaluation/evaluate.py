"""Evaluate a run folder on its dataset's test split: top-1/top-5 error, per-class accuracy.

Views per image: centre crop, flip, 10-crop, or multi-scale dense (see ``crops``); by default
those the run was trained to be scored with (checkpoint ``eval.mode``), else the centre crop.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from cnnlab.data import load_dataset
from cnnlab.data.loaders import split_holdout
from cnnlab.data.registry import Dataset
from cnnlab.device import pick_device
from cnnlab.errors import CnnlabError
from cnnlab.evaluation.metrics import confusion_matrix, per_class_accuracy, topk_accuracy
from cnnlab.evaluation.predict import Predictions, ViewSpec, predict
from cnnlab.runs import resolve_model


@dataclass
class EvalReport:
    """Errors are fractions in [0, 1]; ``confusion`` is K x K (row = true class)."""

    top1_error: float
    top5_error: float
    samples: int
    classes: list[str]
    per_class: list[float]
    confusion: torch.Tensor
    crops: str = "center"
    skipped_files: int = 0

    def to_dict(self) -> dict:
        """The report as JSON (``cnnlab evaluate --json``); errors stay fractions."""
        return {"top1_error": self.top1_error, "top5_error": self.top5_error,
                "top1_acc": 1 - self.top1_error, "samples": self.samples, "crops": self.crops,
                "skipped_files": self.skipped_files,
                "per_class_accuracy": dict(zip(self.classes, self.per_class, strict=True)),
                "confusion": self.confusion.tolist()}


def with_saved_views(spec: ViewSpec | None, meta: dict[str, Any]) -> ViewSpec:
    """``spec`` with what it leaves open (mode None, size, resize) taken from the checkpoint's
    eval settings: a run is scored with the views it was trained to be scored with (the ``fast``
    recipe's flip or flipshift views) unless the caller asks for others."""
    saved = meta.get("eval") or {}
    spec = spec or ViewSpec(mode=None)
    return ViewSpec(spec.mode or saved.get("mode") or "center", spec.size or saved.get("size"),
                    spec.resize or saved.get("resize"), spec.scales)


def load_for_evaluation(run_dir: str | Path, split: str = "test", *,
                        data_dir: str | Path | None = None, limit: int | None = None,
                        weights: str | Path | None = None, dataset: str | None = None
                        ) -> tuple[nn.Module, Dataset, dict[str, Any]]:
    """A run's model (or a zoo model's, with ``weights``) and the split to score it on.

    Returns (model in eval mode on the CPU, dataset, checkpoint metadata). ``dataset``
    defaults to the run's (or the model's native one); ``split`` is "test", or "holdout": the
    training images the run held out (config holdout).
    """
    model, meta = resolve_model(str(run_dir), weights=weights)
    dataset = dataset or meta.get("dataset")
    if not dataset or not meta.get("classes"):
        raise CnnlabError(f"{run_dir}: the checkpoint names no dataset to evaluate on")
    data_dir = data_dir if data_dir is not None else meta.get("data_dir")
    if split == "holdout":
        if not meta.get("holdout"):
            raise CnnlabError(f"{run_dir}: the run held out no training images (holdout 0)")
        data = split_holdout(load_dataset(dataset, "train", data_dir), meta["holdout"])[1]
    else:
        data = load_dataset(dataset, "test", data_dir).subset(limit)
    return model, data, meta


def run_predictions(run_dir: str | Path, split: str = "test", *,
                    data_dir: str | Path | None = None, spec: ViewSpec | None = None,
                    batch_size: int = 250, limit: int | None = None,
                    indices: torch.Tensor | None = None, workers: int = 0,
                    weights: str | Path | None = None,
                    dataset: str | None = None) -> tuple[Predictions, dict[str, Any]]:
    """Load a run's checkpoint and predict a split of its dataset; returns (predictions, meta).

    ``run_dir`` may also be a zoo model name, with ``weights`` (e.g. torchvision's file) and
    ``dataset`` (default: the model's native one); see ``load_for_evaluation``.
    """
    model, data, meta = load_for_evaluation(run_dir, split, data_dir=data_dir, limit=limit,
                                            weights=weights, dataset=dataset)
    spec = with_saved_views(spec, meta)
    device = pick_device("auto")
    preds = predict(model.to(device), data, device=device, batch_size=batch_size, spec=spec,
                    indices=indices, workers=workers)
    return preds, meta


def evaluate_run(run_dir: str | Path, data_dir: str | Path | None = None,
                 batch_size: int = 250, limit: int | None = None,
                 spec: ViewSpec | None = None, workers: int = 0,
                 weights: str | Path | None = None, dataset: str | None = None) -> EvalReport:
    """Score the run's checkpoint (or a zoo model with ``weights``) on a test split."""
    preds, meta = run_predictions(run_dir, data_dir=data_dir, spec=spec, batch_size=batch_size,
                                  limit=limit, workers=workers, weights=weights,
                                  dataset=dataset)
    spec = with_saved_views(spec, meta)
    classes = list(meta["classes"])
    top1, top5 = topk_accuracy(preds.log_probs, preds.labels, ks=(1, 5))
    matrix = confusion_matrix(preds.log_probs.argmax(1), preds.labels, len(classes))
    return EvalReport(1 - top1, 1 - top5, len(preds.labels), classes,
                      per_class_accuracy(matrix).tolist(), matrix,
                      spec.mode, len(preds.bad_files))
