"""The Kernels page's API: the named kernels, a kernel applied to a photo (the same
``filter_image`` call as ``cnnlab filter``), and one output pixel's window, products and sum
(``pixel_step.step_at``, written as ``cnnlab trace conv`` writes a step)."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from cnnlab.convolution.apply import DISPLAY_MODES, filter_image, resolve_padding
from cnnlab.convolution.kernels import KERNELS, Kernel, custom_kernel, integer_form
from cnnlab.convolution.matrices import parse_matrix
from cnnlab.convolution.pixel_step import step_at
from cnnlab.convolution.reference import PAD_MODES
from cnnlab.convolution.shapes import size_formula
from cnnlab.convolution.steps_text import fmt, format_matrix
from cnnlab.studio.api.photos import photo_array
from cnnlab.studio.http import ApiError, field, pixels_payload, read_json
from cnnlab.studio.work import run_limited

MAX_SIZE = 15  # the page's editor: 1..15 rows and columns, odd and even
MAX_STRIDE = 64
MAX_PADDING = 64
MAX_DILATION = 16
MAX_WEIGHT = 1e6  # larger weights only overflow the display; almost surely a typo
DEFAULTS = {"stride": 1, "padding": "same", "border": "reflect", "dilation": 1,
            "color": "rgb", "display": "auto"}  # the defaults of `cnnlab filter`
CHANNELS = {1: ["gray"], 3: ["R", "G", "B"]}


@dataclass(frozen=True)
class Settings:
    """One Kernels request, validated: what to filter and how."""

    photo: str
    kernel: Kernel
    stride: int
    padding: int | str
    border: str
    dilation: int
    gray: bool
    display: str


def _matrix(value: Any) -> np.ndarray:
    if isinstance(value, str):
        if len(value) > 20 * MAX_SIZE * MAX_SIZE:
            raise ApiError(400, f"field 'matrix' is too long ({len(value):,} characters)")
        return parse_matrix(value, "kernel")
    rows_ok = value and all(isinstance(row, list) and row for row in value)
    if not rows_ok or any(not isinstance(v, int | float) or isinstance(v, bool)
                          for row in value for v in row):
        raise ApiError(400, "field 'matrix' must be rows of numbers, e.g. [[0, -1, 0], ...] or "
                            "'0,-1,0;-1,5,-1;0,-1,0'")
    if len({len(row) for row in value}) != 1:
        raise ApiError(400, "field 'matrix' has rows of different lengths")
    return np.asarray(value, dtype=np.float64)


def _kernel(body: dict[str, Any]) -> Kernel:
    if "matrix" in body and body["matrix"] is not None:
        matrix = _matrix(field(body, "matrix", (str, list)))
        if max(matrix.shape) > MAX_SIZE:
            raise ApiError(400, f"the kernel is {matrix.shape[0]}x{matrix.shape[1]}; the page "
                                f"takes 1 to {MAX_SIZE} rows and columns")
        if not np.isfinite(matrix).all() or np.abs(matrix).max() > MAX_WEIGHT:
            raise ApiError(400, f"kernel weights must be finite and within ±{MAX_WEIGHT:g}")
        return custom_kernel(matrix)
    name = field(body, "kernel", str)
    if name not in KERNELS:  # names only: a file path typed into the page is never opened
        raise ApiError(400, f"unknown kernel {name[:40]!r}: choose one of {', '.join(KERNELS)}, "
                            f"or send a 'matrix'")
    return KERNELS[name]


def _padding(body: dict[str, Any]) -> int | str:
    value = field(body, "padding", (str, int), default=DEFAULTS["padding"])
    if isinstance(value, str) and value not in ("same", "valid"):
        if not value.isdigit():
            raise ApiError(400, f"field 'padding' must be same, valid or a number of pixels, "
                                f"got {value[:20]!r}")
        value = int(value)
    if isinstance(value, int) and not 0 <= value <= MAX_PADDING:
        raise ApiError(400, f"field 'padding' must be 0 to {MAX_PADDING} pixels, got {value}")
    return value


def parse_settings(body: dict[str, Any]) -> Settings:
    """The request body checked field by field; a 400 names the first field that is wrong."""
    return Settings(
        photo=field(body, "photo", str),
        kernel=_kernel(body),
        stride=field(body, "stride", int, DEFAULTS["stride"], minimum=1, maximum=MAX_STRIDE),
        padding=_padding(body),
        border=field(body, "border", str, DEFAULTS["border"], choices=list(PAD_MODES)),
        dilation=field(body, "dilation", int, DEFAULTS["dilation"], minimum=1,
                       maximum=MAX_DILATION),
        gray=field(body, "color", str, DEFAULTS["color"], choices=["rgb", "gray"]) == "gray",
        display=field(body, "display", str, DEFAULTS["display"], choices=list(DISPLAY_MODES)))


def kernel_info(kernel: Kernel) -> dict[str, Any]:
    """A kernel for the page: its matrix (and a 1/d integer form), or its parts."""
    info: dict[str, Any] = {"name": kernel.name, "description": kernel.description,
                            "source": kernel.source, "shape": list(kernel.shape),
                            "parts": [part.name for part in kernel.parts]}
    if kernel.is_linear:
        denominator, integers = integer_form(kernel.matrix)
        info.update(matrix=kernel.matrix.tolist(), sum=kernel.sum, denominator=denominator,
                    integers=integers.tolist())
    return info


def _geometry(settings: Settings, height: int, width: int) -> dict[str, Any]:
    kh, kw = settings.kernel.shape
    span = (settings.dilation * (kh - 1) + 1, settings.dilation * (kw - 1) + 1)
    pads = resolve_padding(settings.padding, span)
    rows = size_formula(height, kh, settings.stride, pads[:2], settings.dilation)
    cols = size_formula(width, kw, settings.stride, pads[2:], settings.dilation)
    return {"span": list(span), "pads": list(pads),
            "rows": {"size": rows[0], "formula": rows[1]},
            "cols": {"size": cols[0], "formula": cols[1]}}


def _apply(image: np.ndarray, settings: Settings) -> dict[str, Any]:
    start = time.perf_counter()
    geometry = _geometry(settings, *image.shape[:2])
    result = filter_image(image, settings.kernel, settings.stride, settings.padding,
                          settings.border, settings.dilation, settings.display)
    return {"input": {"height": image.shape[0], "width": image.shape[1],
                      "channels": 1 if image.ndim == 2 else image.shape[2]},
            "kernel": kernel_info(settings.kernel), "geometry": geometry,
            "display": result.display, "output": pixels_payload(result.pixels),
            "response_min": float(result.values.min()),
            "response_max": float(result.values.max()),
            "server_ms": 1000 * (time.perf_counter() - start)}


def _channel_step(plane: np.ndarray, settings: Settings, row: int, col: int) -> dict[str, Any]:
    kernel = settings.kernel
    parts = kernel.parts or (kernel,)
    steps = [step_at(plane, part.matrix, row, col, settings.stride, settings.padding,
                     settings.border, settings.dilation) for part in parts]
    if kernel.is_linear:
        return {"value": steps[0].step.value, "lines": steps[0].lines(),
                "parts": [steps[0].to_dict()]}
    # A magnitude kernel (sobel-magnitude) combines its parts' sums, as apply_kernel does.
    value = math.sqrt(sum(s.step.value ** 2 for s in steps))
    lines = [line for part, s in zip(parts, steps, strict=True)
             for line in [f"{part.name}:", *s.lines()]]
    terms = " + ".join(f"{fmt(s.step.value)}²" for s in steps)
    lines.append(f"{kernel.name}: sqrt({terms}) = {fmt(value)}")
    return {"value": value, "lines": lines, "parts": [s.to_dict() for s in steps]}


def _step(image: np.ndarray, settings: Settings, row: int, col: int) -> dict[str, Any]:
    planes = [image] if image.ndim == 2 else [image[..., c] for c in range(image.shape[2])]
    channels = [{"channel": name, **_channel_step(plane, settings, row, col)}
                for name, plane in zip(CHANNELS[len(planes)], planes, strict=True)]
    first = channels[0]["parts"][0]
    box = {"top": first["rows"][0], "left": first["cols"][0],
           "rows": first["rows"][-1] - first["rows"][0] + 1,
           "cols": first["cols"][-1] - first["cols"][0] + 1}
    kernels = [{"name": part.name, "lines": format_matrix(part.matrix)}
               for part in settings.kernel.parts or (settings.kernel,)]
    return {"row": row, "col": col, "box": box, "kernels": kernels, "channels": channels}


async def kernel_list(request: Request) -> JSONResponse:
    return JSONResponse({"kernels": [kernel_info(k) for k in KERNELS.values()],
                         "borders": list(PAD_MODES), "displays": list(DISPLAY_MODES),
                         "defaults": DEFAULTS, "max_size": MAX_SIZE, "max_stride": MAX_STRIDE,
                         "max_padding": MAX_PADDING, "max_dilation": MAX_DILATION})


async def kernel_apply(request: Request) -> JSONResponse:
    settings = parse_settings(await read_json(request))
    image = photo_array(request, settings.photo, settings.gray)
    result = await run_limited(_apply, image, settings,
                               timeout_s=request.app.state.config.time_limit_s)
    return JSONResponse(result)


async def kernel_step(request: Request) -> JSONResponse:
    body = await read_json(request)
    settings = parse_settings(body)
    row = field(body, "row", int, minimum=0)
    col = field(body, "col", int, minimum=0)
    image = photo_array(request, settings.photo, settings.gray)
    result = await run_limited(_step, image, settings, row, col,
                               timeout_s=request.app.state.config.time_limit_s)
    return JSONResponse(result)


ROUTES = [
    Route("/api/kernels", kernel_list, methods=["GET"]),
    Route("/api/kernels/apply", kernel_apply, methods=["POST"]),
    Route("/api/kernels/step", kernel_step, methods=["POST"]),
]
