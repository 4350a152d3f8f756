"""The explorer's request side: a JSON body -> its loaded model and input image, under the
studio's time limit (``studio.work.run_limited``), and maps as the page receives them."""

from __future__ import annotations

import threading
from typing import Any

import numpy as np
from starlette.requests import Request

from cnnlab.studio.explorer_images import InputImage, input_image
from cnnlab.studio.explorer_models import Loaded, ModelStore, subject_from
from cnnlab.studio.http import read_json
from cnnlab.studio.work import run_limited

_STORE_LOCK = threading.Lock()


def store(request: Request) -> ModelStore:
    """The app's model LRU, made on first use."""
    with _STORE_LOCK:
        if not hasattr(request.app.state, "explorer"):
            request.app.state.explorer = ModelStore(request.app.state.config)
        return request.app.state.explorer


async def limited(request: Request, fn, *args: object):
    """``run_limited`` with the studio's time limit."""
    return await run_limited(fn, *args, timeout_s=request.app.state.config.time_limit_s)


async def open_model(request: Request) -> tuple[dict[str, Any], Loaded]:
    """The request's JSON body and its model, loaded (or found in the LRU)."""
    body = await read_json(request)
    subject = subject_from(body, request.app.state.config)
    return body, await limited(request, store(request).get, subject)


async def open_image(request: Request, body: dict, loaded: Loaded) -> InputImage:
    return await limited(request, input_image, request, loaded, body)


def uint8(values: np.ndarray) -> np.ndarray:
    """[0, 1] floats -> uint8 levels, rounded (how every map reaches the page)."""
    return (np.clip(values, 0.0, 1.0) * 255.0).round().astype(np.uint8)


