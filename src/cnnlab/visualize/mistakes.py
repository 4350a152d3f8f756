"""What a trained run gets wrong: its confusion matrix and a grid of misclassified test images.

The confusion matrix is ``cnnlab.evaluation`` (``evaluate_run`` + ``plot_confusion``); the
mistakes grid shows the most confident errors first, the ones most worth a look.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

from cnnlab.data import load_dataset
from cnnlab.errors import CnnlabError
from cnnlab.runs import load_checkpoint
from cnnlab.visualize.figures import save_grid, to_display


@dataclass
class Mistakes:
    """Misclassified test images, most confident first; ``images`` is k x C x H x W (uint8)."""

    samples: int
    errors: int
    indices: list[int]
    true: list[str]
    predicted: list[str]
    confidence: list[float]
    images: torch.Tensor

    def to_dict(self) -> dict:
        return {"samples": self.samples, "errors": self.errors, "shown": [
            {"index": i, "true": t, "predicted": p, "probability": c}
            for i, t, p, c in zip(self.indices, self.true, self.predicted, self.confidence,
                                  strict=True)]}


def _run_dataset(meta: dict, run_dir: str | Path) -> str:
    dataset = meta.get("dataset")
    if not dataset or not meta.get("classes"):
        raise CnnlabError(f"{run_dir}: the checkpoint names no dataset; confusion and mistakes "
                          f"need a run folder written by `cnnlab train`")
    return dataset


def find_mistakes(run_dir: str | Path, data_dir: str | Path | None = None, top: int = 25,
                  limit: int | None = None, batch_size: int = 500) -> Mistakes:
    """The ``top`` most confident misclassifications on the run's test split.

    ``limit`` scores only the first N test images.
    """
    from cnnlab.training.loop import predict_logits

    if top < 1:
        raise CnnlabError(f"--top must be at least 1, got {top}")
    model, meta = load_checkpoint(run_dir)
    test = load_dataset(_run_dataset(meta, run_dir), "test", data_dir).subset(limit)
    probs = torch.softmax(predict_logits(model, test, batch_size=batch_size,
                                         device=torch.device("cpu")), dim=1)
    confidence, predicted = probs.max(dim=1)
    wrong = (predicted != test.labels).nonzero().flatten()
    order = wrong[confidence[wrong].argsort(descending=True)][:top]
    classes = list(test.classes)
    return Mistakes(len(test), int(wrong.numel()), order.tolist(),
                    [classes[int(test.labels[i])] for i in order],
                    [classes[int(predicted[i])] for i in order],
                    confidence[order].tolist(), test.images[order])


def plot_mistakes(result: Mistakes, path: str | Path) -> Path:
    """Grid of the misclassified images titled ``true -> predicted (p)``."""
    identity = {"normalization": {"mean": [0.0] * 3, "std": [1.0] * 3}}
    tiles = [to_display(img.float()[:3] / 255.0, identity) for img in result.images]
    titles = [f"{t[:10]}\n-> {p[:10]} {c:.2f}" for t, p, c in
              zip(result.true, result.predicted, result.confidence, strict=True)]
    title = (f"{result.errors} of {result.samples} test images misclassified; "
             f"most confident {len(tiles)}")
    return save_grid(tiles, path, titles=titles, title=title, tile_inches=1.2)


def confusion_picture(run_dir: str | Path, path: str | Path, data_dir: str | Path | None = None,
                      limit: int | None = None) -> dict:
    """Confusion matrix PNG of a run on its test split; returns the evaluation numbers."""
    from cnnlab.evaluation.confusion import plot_confusion
    from cnnlab.evaluation.evaluate import evaluate_run

    report = evaluate_run(run_dir, data_dir=data_dir, limit=limit)
    plot_confusion(report.confusion, report.classes, path)
    return report.to_dict()
