"""``cnnlab train``: train a model and write a run folder."""

from __future__ import annotations

import dataclasses
from typing import Annotated

import typer

from cnnlab.training import TrainConfig, train


def train_command(
    model: Annotated[str, typer.Option(help="Registry name (`cnnlab models`).")] = "smallcnn",
    epochs: Annotated[int | None, typer.Option(help="Passes over the training set.")] = None,
    batch_size: Annotated[int | None, typer.Option(help="Images per step.")] = None,
    lr: Annotated[float | None, typer.Option(help="Peak learning rate.")] = None,
    seed: Annotated[int | None, typer.Option(help="Seed for init, order and augmentation.")] = None,
    device: Annotated[str | None, typer.Option(help="auto, cpu or cuda[:N].")] = None,
    out: Annotated[str | None, typer.Option(help="Run folder (default runs/MODEL-TIME).")] = None,
    data_dir: Annotated[str | None, typer.Option(help="Folder with the dataset files.")] = None,
    train_subset: Annotated[int | None, typer.Option(help="Use the first N training images.")]
    = None,
    test_subset: Annotated[int | None, typer.Option(help="Use the first N test images.")] = None,
    threads: Annotated[int | None, typer.Option(help="CPU threads (0: torch's default).")] = None,
    quiet: Annotated[bool, typer.Option(help="No progress bar or summary.")] = False,
) -> None:
    """Train MODEL (default: the small CNN on Fashion-MNIST) and write a run folder."""
    overrides = {k: v for k, v in locals().items() if v is not None}
    fields = {f.name for f in dataclasses.fields(TrainConfig)}
    cfg = TrainConfig(**{k: v for k, v in overrides.items() if k in fields})
    result = train(cfg)
    last = result.rows[-1]
    print(f"run folder: {result.out}  test accuracy {last['test_acc']:.2%} after "
          f"{result.train_seconds:.0f}s of training")


def register(app: typer.Typer) -> None:
    app.command("train")(train_command)
