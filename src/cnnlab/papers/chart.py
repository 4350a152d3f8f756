"""The "comparing complexity" chart: ImageNet top-1 accuracy against MACs, bubbles sized by
parameters, for every zoo model with a published accuracy (after Canziani, Paszke & Culurciello
2017, "An Analysis of Deep Neural Network Models for Practical Applications", Figure 2).

Accuracies come from the registry's metadata, never from a run: torchvision's single-crop
numbers where the model has them (the closest to Canziani's single central crop), otherwise
the paper's (100 - top-1 error, often multi-crop: the label says which).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from cnnlab.models import list_models, model_info
from cnnlab.papers.paper_table import native_profile
from cnnlab.plotting import pyplot, save_figure


@dataclass(frozen=True)
class ChartPoint:
    """One bubble: MACs at the native input size, parameters, top-1 accuracy (%)."""

    model: str
    macs: int
    params: int
    top1: float
    source: str  # the metadata key the accuracy came from


def top1_accuracy(reported: dict[str, float]) -> tuple[float, str] | None:
    """Top-1 accuracy (%) from a model's ``reported`` metadata, and the key it came from."""
    def rank(key: str) -> int:  # torchvision's single crop, then ILSVRC-2012 val, then others
        return 0 if key.startswith("torchvision") else (1 if "2012" in key else 2)

    accuracies = sorted((k for k in reported if "top1_acc" in k), key=rank)
    if accuracies:
        return float(reported[accuracies[0]]), accuracies[0]
    errors = sorted((k for k in reported if "top1_error" in k and "ensemble" not in k), key=rank)
    if errors:
        return 100.0 - float(reported[errors[0]]), errors[0]
    return None


def top1_accuracies(reported: dict[str, float]) -> dict[str, tuple[float, str]]:
    """Top-1 accuracy (%) and its metadata key per kind of source: "torchvision" (its
    single-crop evaluation of its weights) and "paper" (what the paper, the lecture or the
    authors' model zoo report); a kind without a top-1 number is left out."""
    found = {}
    for kind, keep in (("torchvision", True), ("paper", False)):
        subset = {k: v for k, v in reported.items() if k.startswith("torchvision") == keep}
        accuracy = top1_accuracy(subset)
        if accuracy is not None:
            found[kind] = accuracy
    return found


def chart_points(names: list[str] | None = None) -> tuple[list[ChartPoint], list[str]]:
    """Points for every ImageNet model with a top-1 accuracy; and the models left out.

    ``names`` limits the models considered (default: every registered one); each is profiled
    on the meta device (shapes only) at its native input size.
    """
    points, skipped = [], []
    for name in list_models() if names is None else names:
        info = model_info(name)
        found = top1_accuracy(info.reported) if info.dataset == "imagenet" else None
        if found is None:
            skipped.append(name)
            continue
        p = native_profile(name)
        points.append(ChartPoint(name, p.macs, p.params, found[0], found[1]))
    return points, skipped


def plot_complexity(points: list[ChartPoint], path: str | Path) -> list[Path]:
    """Write the chart as ``path`` (.png) and beside it as .svg; returns both paths."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(10, 6.5))
    for pt in points:
        ax.scatter(pt.macs / 1e9, pt.top1, s=max(pt.params / 1e6, 1) * 8, alpha=0.45,
                   edgecolors="black", linewidths=0.5)
        label = pt.model if pt.source.startswith("torchvision") else f"{pt.model} (paper)"
        ax.annotate(label, (pt.macs / 1e9, pt.top1), fontsize=7, ha="center",
                    va="bottom", xytext=(0, 4), textcoords="offset points")
    ax.set_xlabel("multiply-accumulates per image, native input size (GMACs)")
    ax.set_ylabel("ImageNet top-1 accuracy (%): torchvision single crop, or (paper)")
    ax.set_title("Comparing complexity: accuracy vs MACs, bubble area ~ parameters")
    ax.grid(True, alpha=0.3)
    for millions in (5, 25, 100):
        ax.scatter([], [], s=millions * 8, alpha=0.3, color="grey", label=f"{millions}M params")
    ax.legend(loc="lower right", labelspacing=1.5, borderpad=1.2, frameon=True)
    fig.tight_layout()
    out = [Path(path).with_suffix(".png"), Path(path).with_suffix(".svg")]
    save_figure(fig, *out, dpi=150)
    return out
