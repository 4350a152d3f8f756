"""Top-k patches of a channel over a dataset (Zeiler & Fergus 2014, Fig. 2).

Every image runs up to the layer; the k units of the channel with the largest activations
anywhere in the dataset win, and each is shown as the input patch its theoretical receptive
field covers (from ``cnnlab.complexity.receptive_field``). Parts of the field outside the image
are drawn black, so every patch has the field's size and sits where the unit looks.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from cnnlab.complexity.receptive_field import layer_field, unit_box
from cnnlab.data import load_dataset
from cnnlab.errors import CnnlabError
from cnnlab.inference.classify import preprocess
from cnnlab.models.feature_extraction import check_channel, layer_output
from cnnlab.visualize.figures import denormalize, save_grid


@dataclass
class TopPatches:
    """The k strongest units of ``channel``; ``patches`` are H' x W' x 3 arrays in [0, 1].

    ``boxes`` are (top, left, bottom, right) in input pixels, bottom/right exclusive,
    unclipped (they may reach outside the image).
    """

    layer: str
    channel: int
    images_seen: int
    field_size: tuple[float, float]
    sources: list[int]
    units: list[tuple[int, int]]
    activations: list[float]
    boxes: list[tuple[int, int, int, int]]
    patches: list[np.ndarray]

    def to_dict(self) -> dict:
        """Each top patch's image index, unit, activation and input box as JSON; not the pixels."""
        return {"layer": self.layer, "channel": self.channel, "images": self.images_seen,
                "receptive_field": list(self.field_size), "top": [
                    {"image": s, "unit_yx": list(u), "activation": a, "box": list(b)}
                    for s, u, a, b in zip(self.sources, self.units, self.activations,
                                          self.boxes, strict=True)]}


def _crop(image: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray:
    """H x W x 3 image -> the box's pixels, black where the box leaves the image."""
    top, left, bottom, right = box
    patch = np.zeros((bottom - top, right - left, 3), dtype=image.dtype)
    h, w = image.shape[:2]
    y0, x0, y1, x1 = max(top, 0), max(left, 0), min(bottom, h), min(right, w)
    if y1 > y0 and x1 > x0:
        patch[y0 - top:y1 - top, x0 - left:x1 - left] = image[y0:y1, x0:x1]
    return patch


@torch.no_grad()
def top_patches(model: nn.Module, layer: str, channel: int, batches: Iterable[torch.Tensor],
                meta: dict, top: int = 9) -> TopPatches:
    """The ``top`` input patches that most activate ``channel`` of ``layer``, from ``top``
    different images (each image's strongest unit).

    ``batches`` yields normalized N x C x H x W tensors of one size (the model's input).
    """
    if top < 1:
        raise CnnlabError(f"--top must be at least 1, got {top}")
    model.eval()
    best_vals = torch.empty(0)
    best_keys = torch.empty(0, 3, dtype=torch.long)  # (image, y, x)
    kept: dict[int, torch.Tensor] = {}
    seen = 0
    for x in batches:
        out = layer_output(model, layer, x)
        if out.dim() != 4:
            raise CnnlabError(f"layer {layer!r} has no spatial output for top patches")
        check_channel(channel, out.shape[1], layer)
        # One unit per image (its strongest), so the k patches come from k different images.
        vals, pos = out[:, channel].float().flatten(1).max(dim=1)
        w = out.shape[-1]
        keys = torch.stack([torch.arange(len(vals)) + seen, pos // w, pos % w], dim=1)
        kept.update({seen + i: x[i] for i in range(len(vals))})
        best_vals, order = torch.cat([best_vals, vals]).topk(min(top, len(best_vals) + len(vals)))
        best_keys = torch.cat([best_keys, keys])[order]
        winners = set(best_keys[:, 0].tolist())
        kept = {k: v for k, v in kept.items() if k in winners}
        seen += x.shape[0]
    if seen == 0:
        raise CnnlabError("no images to search for top patches")
    field = layer_field(model, layer, tuple(next(iter(kept.values())).shape))
    boxes, patches = [], []
    for image_index, y, xx in best_keys.tolist():
        box = unit_box(field, y, xx)
        boxes.append(box)
        patches.append(_crop(denormalize(kept[image_index], meta), box))
    return TopPatches(layer, channel, seen, field.size, best_keys[:, 0].tolist(),
                      [(y, xx) for _, y, xx in best_keys.tolist()], best_vals.tolist(),
                      boxes, patches)


def plot_top_patches(result: TopPatches, path: str | Path, model_name: str = "") -> Path:
    """Grid of the patches, strongest first, titled with their activations."""
    titles = [f"{a:.2f} (#{s})" for a, s in zip(result.activations, result.sources, strict=True)]
    size = "x".join(str(v) for v in result.field_size)
    title = (f"{model_name} {result.layer} ch {result.channel}: top {len(result.patches)} of "
             f"{result.images_seen} images, field {size}").strip()
    return save_grid(result.patches, path, titles=titles, title=title, tile_inches=1.1)


IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp")


def source_batches(meta: dict, folder: str | Path | None = None,
                   data_dir: str | Path | None = None, limit: int | None = None
                   ) -> Iterator[torch.Tensor]:
    """Batches to search: the image files in ``folder``, else the run's test split.

    ``limit`` keeps the first N images (files in name order).
    """
    if folder is not None:
        folder = Path(folder)
        if not folder.is_dir():
            raise CnnlabError(f"{folder}: no such folder of images")
        paths = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        if not paths:
            raise CnnlabError(f"{folder}: no image files ({', '.join(IMAGE_SUFFIXES)})")
        return file_batches(paths[:limit], meta)
    if not meta.get("dataset") or not meta.get("classes"):
        raise CnnlabError("a zoo model has no dataset of its own: give --images FOLDER")
    try:
        test = load_dataset(meta["dataset"], "test", data_dir).subset(limit)
    except CnnlabError as err:
        if data_dir is not None:
            raise
        raise CnnlabError(f"give --images FOLDER, or --data-dir for the {meta['dataset']} "
                          f"test split ({err})") from None
    return dataset_batches(test.images, test.normalize)


def dataset_batches(images: torch.Tensor, normalize: object, batch_size: int = 256
                    ) -> Iterator[torch.Tensor]:
    """Normalized batches from uint8 N x C x H x W ``images`` (``normalize`` maps a batch)."""
    for start in range(0, images.shape[0], batch_size):
        yield normalize(images[start:start + batch_size])  # type: ignore[operator]


def file_batches(paths: list[Path], meta: dict, batch_size: int = 16) -> Iterator[torch.Tensor]:
    """Image files preprocessed for the model (``cnnlab.inference.classify.preprocess``)."""
    for start in range(0, len(paths), batch_size):
        yield torch.cat([preprocess(p, meta) for p in paths[start:start + batch_size]])
