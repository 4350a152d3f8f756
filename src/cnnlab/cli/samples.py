"""``cnnlab samples``: write a few test images as PNG files (to try ``predict`` on)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cnnlab.data import load_dataset
from cnnlab.imaging import save_image


def samples_command(
    out_dir: Annotated[Path, typer.Argument(help="Folder to write PNG files into.")],
    dataset: Annotated[str, typer.Option(help="Dataset name.")] = "fashion-mnist",
    count: Annotated[int, typer.Option(min=1, max=1000, help="How many images.")] = 8,
    data_dir: Annotated[str | None, typer.Option(help="Folder with the dataset files.")] = None,
) -> None:
    """Write the first COUNT test images as OUT_DIR/test-NNNNN-<class>.png."""
    test = load_dataset(dataset, "test", data_dir).subset(count)
    for i in range(len(test)):
        label = test.classes[int(test.labels[i])]
        slug = label.lower().replace("/", "-").replace(" ", "-")
        image = test.images[i].permute(1, 2, 0).squeeze(-1).numpy()
        path = save_image(image, out_dir / f"test-{i:05d}-{slug}.png")
        print(path)


def register(app: typer.Typer) -> None:
    app.command("samples")(samples_command)
