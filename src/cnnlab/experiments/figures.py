"""The experiments' figures, drawn from the finished runs (matplotlib via cnnlab.plotting)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from cnnlab.experiments.base import Context
from cnnlab.experiments.stats import spread
from cnnlab.plotting import pyplot, save_figure

TRAIN_TOO_CAPTION = ("Test error (solid) and last-epoch training error (hatched): bar = mean, "
                     "dots = seeds")  # the caption of error_bars(..., train_too=True)


def error_curves(context: Context, keys: list[str], title: str) -> Callable[[Path], Path]:
    """He et al.'s style: training error thin, test error bold, per epoch, seed means."""

    def draw(path: Path) -> Path:
        from matplotlib.ticker import MaxNLocator

        plt = pyplot()
        fig, ax = plt.subplots(figsize=(7, 4.5), dpi=100)
        colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
        for key, color in zip(keys, colors, strict=False):
            runs = context.arm_runs(key)
            epochs = [r["epoch"] for r in runs[0].rows]
            train = [spread(1 - t.rows[i]["train_acc"] for t in runs).mean * 100
                     for i in range(len(epochs))]
            test = [spread(1 - t.rows[i]["test_acc"] for t in runs).mean * 100
                    for i in range(len(epochs))]
            label = runs[0].arm.label
            ax.plot(epochs, train, "--", lw=1, color=color, label=f"{label} train")
            ax.plot(epochs, test, "-", lw=2.5, color=color, label=f"{label} test")
        ax.set(xlabel="epoch", ylabel="error (%)", title=title)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # epochs are whole numbers
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
        fig.tight_layout()
        return save_figure(fig, path)

    return draw


def error_bars(context: Context, keys: list[str], title: str,
               train_too: bool = False) -> Callable[[Path], Path]:
    """Test error per arm: bar = mean over seeds, dots = each seed (and train error, hatched)."""

    def draw(path: Path) -> Path:
        plt = pyplot()
        fig, ax = plt.subplots(figsize=(max(5, 1.4 * len(keys) + 2), 4), dpi=100)
        labels = []
        for i, key in enumerate(keys):
            runs = context.arm_runs(key)
            labels.append(runs[0].arm.label)
            test = [100 * t.test_error for t in runs]
            width = 0.38 if train_too else 0.6
            ax.bar(i, spread(test).mean, width, color="C0",
                   label="test" if i == 0 else None)
            ax.plot([i] * len(test), test, "k.", ms=6)
            if train_too:
                train = [100 * t.train_error for t in runs]
                ax.bar(i + width, spread(train).mean, width, color="C1", hatch="//",
                       label="train (last epoch)" if i == 0 else None)
                ax.plot([i + width] * len(train), train, "k.", ms=6)
        ax.set_xticks([i + (0.19 if train_too else 0) for i in range(len(keys))], labels,
                      fontsize=8)
        ax.set(ylabel="top-1 error (%)", title=title)
        ax.grid(axis="y", alpha=0.3)
        ax.legend(fontsize=8)
        fig.tight_layout()
        return save_figure(fig, path)

    return draw
