"""Top-k accuracy, confusion matrices and per-class accuracy from logits."""

from __future__ import annotations

import torch


def topk_accuracy(logits: torch.Tensor, labels: torch.Tensor,
                  ks: tuple[int, ...] = (1, 5)) -> tuple[float, ...]:
    """Fraction of samples whose label is among the k highest scores, for each k.

    Args:
        logits: N x K scores (logits or probabilities).
        labels: N class indices.
    When k >= K every sample counts as correct.
    """
    if logits.shape[0] == 0:
        return tuple(0.0 for _ in ks)
    top = logits.topk(min(max(ks), logits.shape[1]), dim=1).indices
    hits = top == labels.view(-1, 1)
    return tuple(float(hits[:, :k].any(dim=1).float().mean()) for k in ks)


def confusion_matrix(predictions: torch.Tensor, labels: torch.Tensor,
                     num_classes: int) -> torch.Tensor:
    """K x K counts: row = true class, column = predicted class."""
    index = labels.long() * num_classes + predictions.long()
    return torch.bincount(index, minlength=num_classes**2).view(num_classes, num_classes)


def per_class_accuracy(matrix: torch.Tensor) -> torch.Tensor:
    """Recall of each class (diagonal over row sums); NaN for classes with no samples."""
    totals = matrix.sum(dim=1).double()
    return matrix.diag().double() / totals
