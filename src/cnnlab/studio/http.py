"""JSON in and out: error responses, body parsing and field validation for the API modules.

Handlers raise ``ApiError`` (or ``CnnlabError`` from the library); the server turns both into a
JSON error ``{"error": message, "status": code}`` with a 4xx status, never a traceback.
"""

from __future__ import annotations

import base64
import json
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from starlette.requests import Request
from starlette.responses import JSONResponse

_MISSING = object()


class ApiError(Exception):
    """A request the API refuses: ``status`` (4xx or 503/504) and a message naming the cause."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def json_error(status: int, message: str) -> JSONResponse:
    """The one shape of every error the API returns."""
    return JSONResponse({"error": message, "status": status}, status_code=status)


async def read_body(request: Request, max_bytes: int) -> bytes:
    """The raw request body, refused with 413 once it passes ``max_bytes`` (read in chunks, so
    a huge body is never held in memory)."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > max_bytes:
        raise ApiError(413, f"the body is {int(declared):,} bytes; the limit is "
                            f"{max_bytes:,} bytes")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > max_bytes:
            raise ApiError(413, f"the body is larger than the limit of {max_bytes:,} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


async def read_json(request: Request) -> dict[str, Any]:
    """The request's JSON object (Content-Type application/json, at most the config's
    ``max_json_bytes``). Requiring the JSON type means a form on another web site cannot
    post to the studio without the browser asking first."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind != "application/json":
        raise ApiError(415, f"send JSON with Content-Type application/json, got {kind or 'none'}")
    raw = await read_body(request, request.app.state.config.max_json_bytes)
    try:
        body = json.loads(raw, parse_constant=_refuse_constant)
    except (ValueError, RecursionError) as err:
        raise ApiError(400, f"the body is not valid JSON ({_short(err)})") from None
    if not isinstance(body, dict):
        raise ApiError(400, f"the body must be a JSON object, got {type(body).__name__}")
    return body


def _refuse_constant(name: str) -> float:
    raise ValueError(f"{name} is not a JSON number")


def _short(err: Exception) -> str:
    return str(err).splitlines()[0][:120]


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def field(body: dict[str, Any], name: str, kind: type | tuple[type, ...], default: Any = _MISSING,
          choices: Sequence[Any] | None = None, minimum: float | None = None,
          maximum: float | None = None) -> Any:
    """``body[name]`` checked: its JSON type (``int``, ``float``, ``str``, ``bool``, ``list``,
    ``dict``), one of ``choices``, within ``minimum``..``maximum``. Missing with no default,
    or wrong: a 400 naming the field and what it accepts."""
    if name not in body or body[name] is None:
        if default is _MISSING:
            raise ApiError(400, f"missing field {name!r}")
        return default
    value = body[name]
    kinds = kind if isinstance(kind, tuple) else (kind,)
    if not any(_fits(value, k) for k in kinds):
        wanted = " or ".join(_KIND_NAMES.get(k, k.__name__) for k in kinds)
        raise ApiError(400, f"field {name!r} must be {wanted}, got {_describe(value)}")
    if choices is not None and value not in choices:
        raise ApiError(400, f"field {name!r} must be one of {', '.join(map(str, choices))}, "
                            f"got {value!r}")
    too_low = minimum is not None and _is_number(value) and value < minimum
    too_high = maximum is not None and _is_number(value) and value > maximum
    if too_low or too_high:
        bounds = [f">= {minimum:g}"] * (minimum is not None) + [f"<= {maximum:g}"] * (
            maximum is not None)
        raise ApiError(400, f"field {name!r} must be {' and '.join(bounds)}, got {value:g}")
    return value


_KIND_NAMES = {int: "an integer", float: "a number", str: "a string", bool: "true or false",
               list: "a list", dict: "an object"}


def _fits(value: Any, kind: type) -> bool:
    if kind is float:
        return _is_number(value) and math.isfinite(value)
    if kind is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, kind)


def _describe(value: Any) -> str:
    text = json.dumps(value)
    return text if len(text) <= 40 else text[:37] + "..."


def pixels_payload(image: np.ndarray) -> dict[str, Any]:
    """A uint8 (H, W) or (H, W, C) array for ``lib/canvas.js``: its shape and the bytes in
    row-major order, base64-encoded (a third of the size of a JSON list, decoded natively)."""
    if image.dtype != np.uint8 or image.ndim not in (2, 3):
        raise ValueError(f"pixels must be uint8 (H, W) or (H, W, C), got {image.dtype} "
                         f"{image.shape}")
    channels = 1 if image.ndim == 2 else image.shape[2]
    return {"height": int(image.shape[0]), "width": int(image.shape[1]), "channels": channels,
            "data": base64.b64encode(np.ascontiguousarray(image).tobytes()).decode("ascii")}
