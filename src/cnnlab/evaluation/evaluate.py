"""Evaluate a run folder on its dataset's test split: top-1/top-5 error, per-class accuracy."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

from cnnlab.checkpoint import load_checkpoint
from cnnlab.data import load_dataset
from cnnlab.errors import CnnlabError
from cnnlab.evaluation.metrics import confusion_matrix, per_class_accuracy, topk_accuracy


@dataclass
class EvalReport:
    """Errors are fractions in [0, 1]; ``confusion`` is K x K (row = true class)."""

    top1_error: float
    top5_error: float
    samples: int
    classes: list[str]
    per_class: list[float]
    confusion: torch.Tensor

    def to_dict(self) -> dict:
        return {"top1_error": self.top1_error, "top5_error": self.top5_error,
                "top1_acc": 1 - self.top1_error, "samples": self.samples,
                "per_class_accuracy": dict(zip(self.classes, self.per_class, strict=True)),
                "confusion": self.confusion.tolist()}


def evaluate_run(run_dir: str | Path, data_dir: str | Path | None = None,
                 batch_size: int = 1000, limit: int | None = None) -> EvalReport:
    """Load the run's checkpoint and score it on the test split of its dataset."""
    from cnnlab.training.loop import predict_logits
    from cnnlab.training.trainer import pick_device

    model, meta = load_checkpoint(run_dir)
    dataset = meta.get("dataset")
    if not dataset or not meta.get("classes"):
        raise CnnlabError(f"{run_dir}: the checkpoint names no dataset to evaluate on")
    test = load_dataset(dataset, "test", data_dir).subset(limit)
    device = pick_device("auto")
    model = model.to(device)
    logits = predict_logits(model, test, batch_size=batch_size, device=device)
    top1, top5 = topk_accuracy(logits, test.labels, ks=(1, 5))
    matrix = confusion_matrix(logits.argmax(1), test.labels, len(test.classes))
    return EvalReport(1 - top1, 1 - top5, len(test), list(test.classes),
                      per_class_accuracy(matrix).tolist(), matrix)
