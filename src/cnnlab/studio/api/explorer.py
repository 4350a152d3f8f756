"""The Model explorer's API: a zoo model or a run, opened and looked inside.

structure and table come from the meta device (``cnnlab.complexity``: no weights, no
arithmetic), so they answer at once even for large models. The rest runs the model on one
image with the functions ``cnnlab predict`` and ``cnnlab viz`` call, one computation per model
at a time, within the studio's time limit, cached per (model, image, layer, options).

Every body names the model as ``{"model": name, "size": side}`` or ``{"run": id}``, and, where
an image is needed, ``"image": {"photo": id}`` or ``{"run": id, "index": i}``.
"""

from __future__ import annotations

import functools
import threading
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from cnnlab.complexity import formatting
from cnnlab.complexity.profiler import Profile, profile
from cnnlab.inference.classify import classify_tensor
from cnnlab.models import list_models, model_info
from cnnlab.runs import meta_model
from cnnlab.studio.api.explorer_maps import (
    ATTRIBUTION_METHODS,
    activations,
    attribution,
    receptive_field,
    top_patches,
)
from cnnlab.studio.explorer_images import shown_input
from cnnlab.studio.explorer_models import (
    MAX_SIDE,
    Subject,
    named_by_id,
    subject_from,
    weights_text,
)
from cnnlab.studio.explorer_requests import limited, open_image, open_model, store, uint8
from cnnlab.studio.explorer_structure import block_tree
from cnnlab.studio.http import field, pixels_payload, read_json
from cnnlab.studio.rundirs import list_runs
from cnnlab.studio.work import run_limited
from cnnlab.visualize import filters as filt

# Profiling on the meta device takes seconds, but resnet1202's 600 blocks take half a minute
# on a busy 2-core laptop: the structure and the table may take longer than a computation.
SLOW_LIMIT_S = 120.0
# The page asks for the structure and the table at once: one profile serves both, so the
# second request waits for the first instead of profiling the same model beside it.
_PROFILING = threading.Lock()


def _profiled(subject: Subject) -> tuple[dict[str, Any], Profile]:
    """The block tree and the profile of ``subject`` (computed once, the last 16 kept)."""
    with _PROFILING:
        return _profile_once(subject)


@functools.lru_cache(maxsize=16)
def _profile_once(subject: Subject) -> tuple[dict[str, Any], Profile]:
    with named_by_id(subject):
        model, size = meta_model(subject.spec, None if subject.size is None else str(subject.size))
    model.registry_name = getattr(model, "registry_name", subject.name)
    result = profile(model, size)
    return block_tree(model, size, result), result


async def _profiled_limited(request: Request, subject: Subject):
    limit = max(SLOW_LIMIT_S, request.app.state.config.time_limit_s)
    return await run_limited(_profiled, subject, timeout_s=limit)


async def list_subjects(request: Request) -> JSONResponse:
    """GET -> the zoo (name, input size, weights given or not), the runs, the limits."""
    config = request.app.state.config
    models = []
    for name in list_models():
        info = model_info(name)
        models.append({"name": name, "full_name": info.full_name, "family": info.family,
                       "input_size": list(info.input_size), "dataset": info.dataset,
                       "weights": config.weights_for(name) is not None})
    return JSONResponse({"models": models, "runs": list_runs(config.runs_dir),
                         "models_kept": store(request).kept, "max_side": MAX_SIDE,
                         "time_limit_s": config.time_limit_s,
                         "methods": list(ATTRIBUTION_METHODS)})


async def structure(request: Request) -> JSONResponse:
    """POST {model | run, size?} -> the block tree (meta device) and what the model is."""
    body = await read_json(request)
    config = request.app.state.config
    subject = subject_from(body, config)
    tree, result = await _profiled_limited(request, subject)
    weights, random = weights_text(subject, config)
    return JSONResponse({"title": subject.label, "tree": tree,
                         "input_size": list(result.input_size), "weights": weights,
                         "random_weights": random, "kind": subject.kind})


async def table(request: Request) -> JSONResponse:
    """POST {model | run, size?, flops?} -> ``cnnlab profile``'s tables, cells as it prints
    them, its totals, and the numbers unrounded (``profile --json``)."""
    body = await read_json(request)
    subject = subject_from(body, request.app.state.config)
    flops = field(body, "flops", bool, default=False)
    _, result = await _profiled_limited(request, subject)
    return JSONResponse({
        "columns": formatting.columns(flops),
        "layers": [formatting.row_cells(r, flops) for r in result.rows],
        "blocks": [formatting.row_cells(r, flops) for r in result.blocks],
        "totals": formatting.totals(result), "profile": result.to_dict()})


async def predict(request: Request) -> JSONResponse:
    """POST {model | run, image, top?} -> top classes (``cnnlab predict``'s call) and the
    input as the model sees it."""
    body, loaded = await open_model(request)
    top = field(body, "top", int, default=5, minimum=1, maximum=20)
    image = await open_image(request, body, loaded)

    def work() -> dict:
        result = classify_tensor(loaded.model, loaded.meta, image.x, top, image.key).to_dict()
        classes = loaded.meta.get("classes") or []
        label_name = classes[image.label] if image.label is not None and classes else None
        return {**result, "input": pixels_payload(shown_input(loaded, image.x)),
                "label": image.label, "label_name": label_name, "weights": loaded.weights,
                "input_size": list(loaded.input_size)}

    return JSONResponse(await limited(request, loaded.compute, ("predict", image.key, top),
                                      work))


async def filters(request: Request) -> JSONResponse:
    """POST {model | run, layer?, input_channel?, limit?} -> ``cnnlab viz filters``' tiles."""
    body, loaded = await open_model(request)
    layer = field(body, "layer", str, default=None)
    channel = field(body, "input_channel", int, default=None, minimum=0)
    limit = field(body, "limit", int, default=64, minimum=1, maximum=256)

    def work() -> dict:
        grid = filt.filter_grid(loaded.model, layer, channel, limit)
        return {**grid.to_dict(), "tiles": [pixels_payload(uint8(t)) for t in grid.tiles]}

    return JSONResponse(await limited(request, loaded.compute,
                                      ("filters", layer, channel, limit), work))


ROUTES = [
    Route("/api/explorer/models", list_subjects, methods=["GET"]),
    Route("/api/explorer/structure", structure, methods=["POST"]),
    Route("/api/explorer/table", table, methods=["POST"]),
    Route("/api/explorer/predict", predict, methods=["POST"]),
    Route("/api/explorer/filters", filters, methods=["POST"]),
    Route("/api/explorer/activations", activations, methods=["POST"]),
    Route("/api/explorer/receptive-field", receptive_field, methods=["POST"]),
    Route("/api/explorer/attribution", attribution, methods=["POST"]),
    Route("/api/explorer/top-patches", top_patches, methods=["POST"]),
]
