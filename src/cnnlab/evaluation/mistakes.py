"""What a trained run gets wrong: its most confidently misclassified test images.

The most confident errors come first: they are the ones most worth a look (a wrong label, a
class the model never separates). ``cnnlab.visualize.mistakes`` draws them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

from cnnlab.data import load_dataset
from cnnlab.errors import CnnlabError
from cnnlab.evaluation.predict import ViewSpec, predict
from cnnlab.runs import load_checkpoint


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
    """The ``top`` most confident misclassifications on the run's test split (centre view, CPU).

    ``limit`` scores only the first N test images; ``confidence`` is the softmax probability
    of the predicted class, a fraction.
    """
    if top < 1:
        raise CnnlabError(f"--top must be at least 1, got {top}")
    model, meta = load_checkpoint(run_dir)
    test = load_dataset(_run_dataset(meta, run_dir), "test", data_dir).subset(limit)
    preds = predict(model, test, device=torch.device("cpu"), batch_size=batch_size,
                    spec=ViewSpec("center"), channels_last=True)
    confidence, predicted = preds.log_probs.exp().max(dim=1)
    wrong = (predicted != test.labels).nonzero().flatten()
    order = wrong[confidence[wrong].argsort(descending=True)][:top]
    classes = list(test.classes)
    return Mistakes(len(test), int(wrong.numel()), order.tolist(),
                    [classes[int(test.labels[i])] for i in order],
                    [classes[int(predicted[i])] for i in order],
                    confidence[order].tolist(), test.images[order])
