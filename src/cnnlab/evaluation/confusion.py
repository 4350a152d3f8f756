"""Confusion-matrix figure (PNG), counts annotated, rows normalized for the colour."""

from __future__ import annotations

from pathlib import Path

import torch

from cnnlab.plotting import pyplot, save_figure


def plot_confusion(matrix: torch.Tensor, classes: list[str], path: str | Path,
                   title: str = "Confusion matrix") -> Path:
    """Draw ``matrix`` (K x K counts, row = true class, column = prediction; e.g.
    ``EvalReport.confusion``) with its counts; colour is the row-normalized share."""
    plt = pyplot()
    counts = matrix.double()
    share = counts / counts.sum(dim=1, keepdim=True).clamp(min=1)
    size = max(5.0, 0.6 * len(classes) + 2)
    fig, ax = plt.subplots(figsize=(size, size), dpi=100)
    ax.imshow(share.numpy(), cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(len(classes)), classes, rotation=45, ha="right")
    ax.set_yticks(range(len(classes)), classes)
    ax.set(xlabel="predicted class", ylabel="true class", title=title)
    if len(classes) <= 30:
        for i in range(len(classes)):
            for j in range(len(classes)):
                ax.text(j, i, int(counts[i, j]), ha="center", va="center", fontsize=7,
                        color="white" if share[i, j] > 0.5 else "black")
    fig.tight_layout()
    return save_figure(fig, path)
