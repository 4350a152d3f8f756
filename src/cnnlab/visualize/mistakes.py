"""Pictures of what a trained run gets wrong: its confusion matrix and its worst mistakes.

The numbers come from ``cnnlab.evaluation``: ``evaluate_run`` + ``plot_confusion`` for the
matrix, ``find_mistakes`` for the misclassified test images, most confident first.
"""

from __future__ import annotations

from pathlib import Path

from cnnlab.evaluation.confusion import plot_confusion
from cnnlab.evaluation.evaluate import evaluate_run
from cnnlab.evaluation.mistakes import Mistakes
from cnnlab.visualize.figures import as_rgb, save_grid


def plot_mistakes(result: Mistakes, path: str | Path) -> Path:
    """Grid of the misclassified images titled ``true -> predicted (p)``."""
    tiles = [as_rgb(img.float()[:3] / 255.0) for img in result.images]
    titles = [f"{t[:10]}\n-> {p[:10]} {c:.2f}" for t, p, c in
              zip(result.true, result.predicted, result.confidence, strict=True)]
    title = (f"{result.errors} of {result.samples} test images misclassified; "
             f"most confident {len(tiles)}")
    return save_grid(tiles, path, titles=titles, title=title, tile_inches=1.2)


def confusion_picture(run_dir: str | Path, path: str | Path, data_dir: str | Path | None = None,
                      limit: int | None = None) -> dict:
    """Confusion matrix PNG of a run on its test split; returns the evaluation numbers."""
    report = evaluate_run(run_dir, data_dir=data_dir, limit=limit)
    plot_confusion(report.confusion, report.classes, path)
    return report.to_dict()
