"""The Runs page's API: the run folders under the studio's ``--runs``, each one's files, its
scores on its test images and those images, filtered by true and predicted class.

A run is named by its id (its folder name), turned into a folder by
``cnnlab.studio.rundirs.resolve_run`` only. Reading files is quick and done inline, so the page
can poll a run that is still training; scoring a run's test images runs in a worker
(``run_limited``) and is kept per checkpoint (``cnnlab.studio.runscores``).
"""

from __future__ import annotations

import base64
import io
from typing import Any

import numpy as np
from PIL import Image
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from cnnlab.studio import runfiles
from cnnlab.studio.http import ApiError
from cnnlab.studio.rundirs import list_runs, resolve_run
from cnnlab.studio.runscores import SCORES, RunScores
from cnnlab.studio.work import run_limited

# Scoring a CIFAR-sized test split with a large model takes a while on 2 busy cores.
SCORE_LIMIT_S = 300.0
MAX_IMAGES = 100  # images per /images answer; the page asks for more by offset
READABLE_SIDE = 112  # images are enlarged (whole pixels) until their longer side is this long


def _folder(request: Request):
    run_id = request.path_params["run_id"]
    return run_id, resolve_run(request.app.state.config.runs_dir, run_id)


async def runs(request: Request) -> JSONResponse:
    """GET -> {"runs": [summary, ...]}, newest first; a run whose files do not parse is listed
    with its "error" instead of failing the list."""
    runs_dir = request.app.state.config.runs_dir
    rows = []
    for run_id in list_runs(runs_dir):
        try:
            rows.append(runfiles.summary(run_id, resolve_run(runs_dir, run_id)))
        except ApiError as err:
            rows.append({"id": run_id, "error": err.message, "modified": 0.0})
    rows.sort(key=lambda row: row["modified"], reverse=True)
    return JSONResponse({"runs": rows, "runs_dir": runs_dir.name})


async def run(request: Request) -> JSONResponse:
    """GET -> the run's summary, config, checkpoint metadata, metrics rows, and the
    evaluation / ensemble results saved in its folder (null when absent)."""
    run_id, folder = _folder(request)
    return JSONResponse(runfiles.details(run_id, folder))


async def metrics(request: Request) -> JSONResponse:
    """GET -> {"metrics": rows, "training": bool, "epochs": planned}: what the page polls."""
    run_id, folder = _folder(request)
    config = runfiles.read_json_file(folder, runfiles.CONFIG) or {}
    return JSONResponse({"id": run_id, "metrics": runfiles.read_metrics(folder),
                         "training": runfiles.training_now(folder),
                         "epochs": config.get("epochs")})


async def _scores(request: Request) -> RunScores:
    run_id, folder = _folder(request)
    limit = max(SCORE_LIMIT_S, request.app.state.config.time_limit_s)
    return await run_limited(SCORES.get, run_id, folder, timeout_s=limit)


async def scores(request: Request) -> JSONResponse:
    """GET -> accuracy, per-class accuracy and the confusion matrix on the run's test images."""
    return JSONResponse((await _scores(request)).report())


def _class_param(request: Request, name: str, classes: int) -> int | None:
    text = request.query_params.get(name)
    if text is None or text == "":
        return None
    if not text.isdigit() or int(text) >= classes:
        raise ApiError(400, f"{name} must be a class index 0..{classes - 1}, got {text[:20]!r}")
    return int(text)


def _int_param(request: Request, name: str, default: int, maximum: int) -> int:
    text = request.query_params.get(name, str(default))
    if not text.isdigit() or int(text) > maximum:
        raise ApiError(400, f"{name} must be an integer 0..{maximum}, got {text[:20]!r}")
    return int(text)


def png(pixels: np.ndarray, zoom: int = 1) -> bytes:
    """PNG bytes of uint8 pixels, each drawn as a zoom x zoom block (no smoothing)."""
    if zoom > 1:
        pixels = pixels.repeat(zoom, axis=0).repeat(zoom, axis=1)
    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(pixels)).save(buffer, format="PNG")
    return buffer.getvalue()


def readable_zoom(height: int, width: int) -> int:
    """The whole zoom that makes the longer side at least ``READABLE_SIDE`` pixels."""
    return max(1, -(-READABLE_SIDE // max(height, width)))


def _entry(scores: RunScores, index: int) -> dict[str, Any]:
    pixels = scores.image(index)
    zoom = readable_zoom(*pixels.shape[:2])
    label, predicted = int(scores.labels[index]), int(scores.predicted[index])
    return {"index": index, "label": label, "predicted": predicted,
            "label_name": scores.classes[label], "predicted_name": scores.classes[predicted],
            "probability": float(scores.probability[index]), "zoom": zoom,
            "url": "data:image/png;base64," + base64.b64encode(png(pixels, zoom)).decode()}


def _entries(scores: RunScores, indices: list[int]) -> list[dict[str, Any]]:
    return [_entry(scores, index) for index in indices]


async def images(request: Request) -> JSONResponse:
    """GET ?label=K&predicted=J&offset=0&limit=24 -> the test images of true class K predicted
    as J (either may be left out), in index order, as PNG data URLs enlarged to a readable
    size, with "total" the number that match."""
    found = await _scores(request)
    classes = len(found.classes)
    label = _class_param(request, "label", classes)
    predicted = _class_param(request, "predicted", classes)
    offset = _int_param(request, "offset", 0, 10**9)
    limit = _int_param(request, "limit", 24, MAX_IMAGES)
    chosen = found.select(label, predicted)
    shown = chosen[offset:offset + limit].tolist()
    # image files are decoded here, so off the event loop
    entries = await run_limited(_entries, found, shown,
                                timeout_s=request.app.state.config.time_limit_s)
    return JSONResponse({"total": int(chosen.numel()), "offset": offset, "limit": limit,
                         "label": label, "predicted": predicted, "classes": found.classes,
                         "images": entries})


async def image(request: Request) -> Response:
    """GET -> test image ``index`` as a PNG at its own size (X-Label: its class index)."""
    found = await _scores(request)
    text = request.path_params["index"]
    if not text.isdigit() or int(text) >= len(found.labels):
        raise ApiError(404, f"no test image {text[:20]!r}: this run's test images are "
                            f"0..{len(found.labels) - 1}")
    index = int(text)
    pixels = await run_limited(found.image, index,
                               timeout_s=request.app.state.config.time_limit_s)
    return Response(png(pixels), media_type="image/png",
                    headers={"X-Label": str(int(found.labels[index])),
                             "X-Predicted": str(int(found.predicted[index])),
                             "Cache-Control": "no-store"})


ROUTES = [
    Route("/api/runs", runs, methods=["GET"]),
    Route("/api/runs/{run_id}", run, methods=["GET"]),
    Route("/api/runs/{run_id}/metrics", metrics, methods=["GET"]),
    Route("/api/runs/{run_id}/scores", scores, methods=["GET"]),
    Route("/api/runs/{run_id}/images", images, methods=["GET"]),
    Route("/api/runs/{run_id}/image/{index}", image, methods=["GET"]),
]
