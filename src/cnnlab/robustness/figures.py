"""The pictures of a robustness report: accuracy vs severity, the corruption grid, and the
most confused pairs' test images."""

from __future__ import annotations

from pathlib import Path

import torch

from cnnlab.corruptions import CHALLENGE_OF
from cnnlab.plotting import pyplot, save_figure
from cnnlab.robustness.report import RobustnessReport


def plot_accuracy(report: RobustnessReport, path: str | Path) -> Path:
    """One panel per challenge: top-1 accuracy (%) vs severity (0 = clean) for each of its
    corruptions (thin) and their mean (thick)."""
    plt = pyplot()
    challenges = list(report.challenges)
    severities = [0, *report.settings.severities]
    clean = 100 * (1 - report.clean_error)
    fig, axes = plt.subplots(1, len(challenges), figsize=(3.2 * len(challenges), 3.4),
                             sharey=True, squeeze=False)
    for ax, challenge in zip(axes[0], challenges, strict=True):
        names = [n for n in report.errors if CHALLENGE_OF[n] == challenge]
        curves = [[clean, *[100 * (1 - report.errors[n][s]) for s in severities[1:]]]
                  for n in names]
        for name, curve in zip(names, curves, strict=True):
            ax.plot(severities, curve, marker="o", markersize=3, linewidth=1, label=name)
        mean = [sum(c[i] for c in curves) / len(curves) for i in range(len(severities))]
        ax.plot(severities, mean, color="black", linewidth=2.5, label="mean")
        ax.set(title=challenge, xlabel="severity", xticks=severities, ylim=(0, 100))
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, loc="lower left")
    axes[0][0].set_ylabel("top-1 accuracy (%)")
    fig.suptitle(f"{Path(report.target).name}: accuracy under the challenges "
                 f"({report.samples:,} test images)", fontsize=10)
    fig.tight_layout()
    return save_figure(fig, path)


def _tile(images: torch.Tensor) -> torch.Tensor:
    """uint8 R x S x C x H x W -> one H*R x W*S (x 3) array with 1-pixel gaps, for imshow."""
    r, s, c, h, w = images.shape
    canvas = torch.full((r, s, c, h + 1, w + 1), 255, dtype=torch.uint8)
    canvas[..., :h, :w] = images
    tiled = canvas.permute(0, 3, 1, 4, 2).reshape(r * (h + 1), s * (w + 1), c)
    return tiled[..., 0] if c == 1 else tiled


def plot_grid(report: RobustnessReport, path: str | Path) -> Path:
    """One test image under every corruption (rows) at every severity (columns, 0 = clean)."""
    plt = pyplot()
    rows, cols = report.grid.shape[:2]
    h, w = report.grid.shape[-2:]
    scale = max(0.6, 36 / max(h, w)) / 36
    fig, ax = plt.subplots(figsize=(2.2 + cols * w * scale, 0.6 + rows * h * scale), dpi=120)
    ax.imshow(_tile(report.grid).numpy(), cmap="gray", vmin=0, vmax=255,
              interpolation="nearest")
    names = list(report.errors)
    ax.set_yticks([(i + 0.5) * (h + 1) for i in range(rows)],
                  [f"{CHALLENGE_OF[n]}: {n}" for n in names], fontsize=7)
    ax.set_xticks([(j + 0.5) * (w + 1) for j in range(cols)],
                  ["clean", *[str(s) for s in report.settings.severities]], fontsize=7)
    ax.set_xlabel("severity", fontsize=8)
    ax.tick_params(length=0)
    for side in ax.spines.values():
        side.set_visible(False)
    fig.tight_layout()
    return save_figure(fig, path)


def plot_confusions(report: RobustnessReport, path: str | Path) -> Path:
    """A row per confused direction ("Shirt -> T-shirt/top"), its test images side by side."""
    plt = pyplot()
    shown = {key: images for key, images in report.examples.items() if len(images)}
    width = max([len(v) for v in shown.values()] + [1])
    fig, axes = plt.subplots(max(1, len(shown)), width, squeeze=False,
                             figsize=(1.3 * width + 2.2, 1.4 * max(1, len(shown))), dpi=100)
    for ax in axes.flat:
        ax.axis("off")
    for row, (key, images) in enumerate(shown.items()):
        for col, image in enumerate(images):
            picture = image[0] if image.shape[0] == 1 else image.permute(1, 2, 0)
            axes[row][col].imshow(picture.numpy(), cmap="gray", vmin=0, vmax=255)
        axes[row][0].text(-0.15, 0.5, key.replace("->", "\ntaken for\n"), fontsize=7,
                          ha="right", va="center", transform=axes[row][0].transAxes)
    if not shown:
        axes[0][0].text(0.5, 0.5, "no confusions", ha="center", va="center")
    fig.suptitle("Intraclass variation: the most confused classes", fontsize=9)
    fig.tight_layout()
    return save_figure(fig, path)
