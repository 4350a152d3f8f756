"""Training curves (loss and accuracy per epoch) as a PNG."""

from __future__ import annotations

from pathlib import Path

from cnnlab.plotting import pyplot, save_figure


def plot_curves(rows: list[dict[str, float]], path: str | Path) -> Path:
    """Two panels: train/test loss and train/test accuracy against the epoch."""
    from matplotlib.ticker import MaxNLocator

    plt = pyplot()
    epochs = [r["epoch"] for r in rows]
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(10, 4), dpi=100)
    ax_loss.plot(epochs, [r["train_loss"] for r in rows], "o-", label="train")
    ax_loss.plot(epochs, [r["test_loss"] for r in rows], "o-", label="test")
    ax_loss.set(xlabel="epoch", ylabel="cross-entropy loss", title="Loss")
    ax_acc.plot(epochs, [100 * r["train_acc"] for r in rows], "o-", label="train")
    ax_acc.plot(epochs, [100 * r["test_acc"] for r in rows], "o-", label="test")
    ax_acc.set(xlabel="epoch", ylabel="top-1 accuracy (%)", title="Accuracy")
    for ax in (ax_loss, ax_acc):
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # epochs are whole numbers
        ax.grid(alpha=0.3)
        ax.legend()
    fig.tight_layout()
    return save_figure(fig, path)
