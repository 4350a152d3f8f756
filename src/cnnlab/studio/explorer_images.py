"""The explorer's input image: a sample photo, a kept upload, or a test image of a run.

``{"photo": "sample:astronaut"}`` and ``{"photo": "upload:<id>"}`` come from the photos API;
``{"run": "<id>", "index": i}`` is test image ``i`` of that run, the one the Runs page shows
under that index (``cnnlab.studio.runscores``). Every image becomes the model's input with
``cnnlab.inference.classify.preprocess_array``, the same steps ``cnnlab predict`` applies to a
file.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from starlette.requests import Request

from cnnlab.inference.classify import preprocess_array
from cnnlab.studio.api.photos import photo_array
from cnnlab.studio.explorer_models import Loaded
from cnnlab.studio.http import ApiError
from cnnlab.studio.http import field as body_field
from cnnlab.studio.rundirs import resolve_run
from cnnlab.studio.runscores import SCORES
from cnnlab.visualize.figures import denormalize


@dataclass(frozen=True)
class InputImage:
    """``key`` names the image in caches; ``x`` is the model's 1 x C x H x W input."""

    key: str
    x: torch.Tensor
    label: int | None = None  # a run's test image has its true class


def _test_image(request: Request, spec: dict[str, Any]) -> tuple[str, np.ndarray, int]:
    """Test image ``index`` of the run as the Runs page shows it (``runscores``: the images the
    run is scored on, as the model saw them), so an index from /api/runs/{id}/images names the
    same picture here."""
    run_id = body_field(spec, "run", str)
    scores = SCORES.get(run_id, resolve_run(request.app.state.config.runs_dir, run_id))
    index = body_field(spec, "index", int, minimum=0, maximum=len(scores.labels) - 1)
    return f"run:{run_id}:{index}", scores.image(index), int(scores.labels[index])


def input_image(request: Request, loaded: Loaded, body: dict[str, Any]) -> InputImage:
    """The image a request names (field ``image``), preprocessed for ``loaded``'s model."""
    spec = body_field(body, "image", dict)
    gray = loaded.input_size[0] == 1
    if "photo" in spec:
        photo_id = body_field(spec, "photo", str)
        pixels, key, label, invert = photo_array(request, photo_id, gray), photo_id, None, "auto"
    elif "run" in spec:
        key, pixels, label = _test_image(request, spec)
        invert = "no"  # the dataset's own images are already what the model was trained on
    else:
        raise ApiError(400, "field 'image' must name {\"photo\": id} or {\"run\": id, "
                            "\"index\": i}")
    if gray and pixels.ndim == 3:
        pixels = pixels.mean(axis=2).round().astype(np.uint8)
    elif not gray and pixels.ndim == 2:
        pixels = np.repeat(pixels[..., None], 3, axis=2)
    return InputImage(key, preprocess_array(pixels, loaded.meta, invert), label)


def shown_input(loaded: Loaded, x: torch.Tensor) -> np.ndarray:
    """What the model sees, as uint8 H x W x 3 (its normalization undone)."""
    return (denormalize(x, loaded.meta) * 255).round().astype(np.uint8)
