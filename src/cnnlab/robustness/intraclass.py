"""Intraclass variation, the sixth challenge, read from the clean predictions.

No transform of one image makes another instance of its class, so this challenge is measured
by what varies between classes: accuracy per class, its spread, and the pairs of classes the
model confuses most (on Fashion-MNIST: Shirt with T-shirt/top, Pullover and Coat), with test
images of each pair that were confused.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from cnnlab.evaluation.metrics import confusion_matrix, per_class_accuracy


@dataclass
class ConfusedPair:
    """Two classes and how often each was taken for the other; ``examples_*`` are test
    indices of ``a`` predicted as ``b`` and of ``b`` predicted as ``a``."""

    a: str
    b: str
    a_as_b: int
    b_as_a: int
    examples_a_as_b: list[int]
    examples_b_as_a: list[int]

    def to_dict(self) -> dict:
        return {"classes": [self.a, self.b], "a_as_b": self.a_as_b, "b_as_a": self.b_as_a,
                "examples_a_as_b": self.examples_a_as_b,
                "examples_b_as_a": self.examples_b_as_a}


@dataclass
class IntraclassReport:
    """Per-class accuracy (fractions), its spread (max - min) and standard deviation, and the
    most confused pairs, most confusions first."""

    classes: list[str]
    per_class: list[float]
    spread: float
    std: float
    pairs: list[ConfusedPair]

    def to_dict(self) -> dict:
        return {"per_class_accuracy": dict(zip(self.classes, self.per_class, strict=True)),
                "spread": self.spread, "std": self.std,
                "most_confused": [p.to_dict() for p in self.pairs]}


def _examples(predicted: torch.Tensor, labels: torch.Tensor, true: int, guess: int,
              count: int) -> list[int]:
    return ((labels == true) & (predicted == guess)).nonzero().flatten()[:count].tolist()


def intraclass_report(log_probs: torch.Tensor, labels: torch.Tensor, classes: list[str],
                      pairs: int = 3, examples: int = 4) -> IntraclassReport:
    """From log-probabilities N x K and labels N; classes with no test image are left out
    of the spread."""
    predicted = log_probs.argmax(1)
    matrix = confusion_matrix(predicted, labels, len(classes))
    accuracy = per_class_accuracy(matrix)
    present = accuracy[~accuracy.isnan()]
    both_ways = (matrix + matrix.T).triu(diagonal=1)
    order = both_ways.flatten().argsort(descending=True, stable=True)[:pairs]
    found = []
    for flat in order.tolist():
        i, j = divmod(flat, len(classes))
        if both_ways[i, j] == 0:
            break
        found.append(ConfusedPair(classes[i], classes[j], int(matrix[i, j]), int(matrix[j, i]),
                                  _examples(predicted, labels, i, j, examples),
                                  _examples(predicted, labels, j, i, examples)))
    return IntraclassReport(list(classes), accuracy.tolist(),
                            float(present.max() - present.min()) if present.numel() else 0.0,
                            float(present.std(unbiased=False)) if present.numel() else 0.0,
                            found)
