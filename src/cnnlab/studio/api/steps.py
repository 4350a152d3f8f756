"""The step-by-step page's API: every window of a convolution or pooling, as ``cnnlab trace``
computes and prints it (cnnlab.convolution.steps and steps_text).

Each answer carries the numbers (windows, products, sums) and the same text the CLI prints, so
the page shows what ``cnnlab trace conv`` / ``pool`` / ``layer`` would.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from PIL import Image
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from cnnlab.convolution.examples import (
    CONV_EXAMPLES,
    FILTERS_EXAMPLE,
    POOL_EXAMPLE,
    SIX_FILTER_NAMES,
    SIX_FILTERS,
)
from cnnlab.convolution.reference import conv2d, relu
from cnnlab.convolution.steps import WindowSteps, trace_conv, trace_filters, trace_layer, trace_pool
from cnnlab.convolution.steps_text import format_layer, format_steps, result_text
from cnnlab.imaging import SAMPLE_PHOTOS, load_sample
from cnnlab.studio.http import ApiError, field, read_json
from cnnlab.studio.work import run_limited

MAX_SIDE = 32  # a trace lists every window; larger planes belong on the Kernels page
MAX_KERNEL = 15
MAX_STRIDE = 8
MAX_PADDING = 8
MAX_VALUE = 1e9  # keeps every product and sum finite
# The many-channel view lists every window of every (filter, channel) plane: smaller limits.
FILTERS_MAX_SIDE = 16
FILTERS_MAX_KERNEL = 7
FILTERS_MAX_CHANNELS = 4
MAPS_SIDE = 32  # the lecture's 32x32x3 image


def json_safe(value: Any) -> Any:
    """``value`` with infinities (max-pool padding counts as -inf) written as strings, since
    JSON has no infinity."""
    if isinstance(value, float) and not math.isfinite(value):
        return "nan" if math.isnan(value) else ("-inf" if value < 0 else "inf")
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    return value


def number_array(body: dict[str, Any], name: str, ndim: int, max_side: int,
                 default: Any = None) -> np.ndarray:
    """``body[name]`` as a float array of ``ndim`` nested lists, 1 to ``max_side`` long on
    every axis, numbers within +-MAX_VALUE only; a 400 naming the field otherwise."""
    value = field(body, name, list) if default is None else field(body, name, list, default)
    axes = " x ".join(["N"] * ndim)
    _check_nested(value, name, ndim, max_side, axes)
    try:
        array = np.asarray(value, dtype=np.float64)
    except ValueError:
        raise ApiError(400, f"field {name!r}: every row must have the same length") from None
    if array.ndim != ndim:
        raise ApiError(400, f"field {name!r} must be a {axes} array, got {array.ndim} axes")
    return array


def _check_nested(value: Any, name: str, depth: int, max_side: int, axes: str) -> None:
    if depth == 0:
        if isinstance(value, bool) or not isinstance(value, int | float) or not (
                abs(value) <= MAX_VALUE):
            raise ApiError(400, f"field {name!r}: every entry must be a number between "
                                f"-{MAX_VALUE:g} and {MAX_VALUE:g}, got {str(value)[:20]!r}")
        return
    if not isinstance(value, list) or not 1 <= len(value) <= max_side:
        raise ApiError(400, f"field {name!r} must be a {axes} array of numbers with 1 to "
                            f"{max_side} entries on each axis")
    for item in value:
        _check_nested(item, name, depth - 1, max_side, axes)


def _settings(body: dict[str, Any], stride_default: int | None = 1) -> tuple[int | None, int]:
    stride = field(body, "stride", int, stride_default, minimum=1, maximum=MAX_STRIDE)
    padding = field(body, "padding", int, 0, minimum=0, maximum=MAX_PADDING)
    return stride, padding


def trace_answer(trace: WindowSteps, nonzero_only: bool = False) -> dict[str, Any]:
    """A trace as JSON: its numbers, each step written out, and the CLI's full text."""
    text = format_steps(trace, nonzero_only=nonzero_only)
    answer = trace.to_dict()
    answer.update(sums=[result_text(trace, s, nonzero_only) for s in trace.steps],
                  formula=text.splitlines()[1].strip(), text=text,
                  output_shape=list(trace.output.shape))
    return json_safe(answer)


def _conv(image: np.ndarray, kernel: np.ndarray, stride: int, padding: int, bias: float,
          nonzero: bool) -> dict[str, Any]:
    trace = trace_conv(image, kernel, stride, padding, bias)
    answer = trace_answer(trace, nonzero)
    answer["relu"] = relu(trace.output).tolist()
    size = kernel.shape[0]
    # (F - 1) / 2 keeps the size at stride 1 only for an odd F.
    answer["same_padding"] = (size - 1) // 2 if size % 2 and kernel.shape[1] == size else None
    return answer


async def conv(request: Request) -> JSONResponse:
    """POST {image, kernel, stride, padding, bias, nonzero} -> every window of the conv."""
    body = await read_json(request)
    image = number_array(body, "image", 2, MAX_SIDE)
    kernel = number_array(body, "kernel", 2, MAX_KERNEL)
    stride, padding = _settings(body)
    bias = field(body, "bias", float, 0.0, minimum=-1e6, maximum=1e6)
    nonzero = field(body, "nonzero", bool, False)
    answer = await run_limited(_conv, image, kernel, stride, padding, bias, nonzero,
                               timeout_s=request.app.state.config.time_limit_s)
    return JSONResponse(answer)


def _pool(image: np.ndarray, size: int, stride: int | None, padding: int, op: str
          ) -> dict[str, Any]:
    return trace_answer(trace_pool(image, size, stride, padding, op))


async def pool(request: Request) -> JSONResponse:
    """POST {image, size, stride, padding, op} -> every window of a max or average pooling."""
    body = await read_json(request)
    image = number_array(body, "image", 2, MAX_SIDE)
    size = field(body, "size", int, 2, minimum=1, maximum=MAX_KERNEL)
    stride, padding = _settings(body, stride_default=None)
    op = field(body, "op", str, "max", choices=("max", "avg"))
    answer = await run_limited(_pool, image, size, stride, padding, op,
                               timeout_s=request.app.state.config.time_limit_s)
    return JSONResponse(answer)


async def layer(request: Request) -> JSONResponse:
    """POST {height, width, channels, filters, kernel, stride, padding} -> the layer's shapes
    (``cnnlab trace layer``)."""
    body = await read_json(request)
    size = tuple(field(body, key, int, default, minimum=1, maximum=4096)
                 for key, default in (("height", 32), ("width", 32), ("channels", 3)))
    filters = field(body, "filters", int, 6, minimum=1, maximum=4096)
    kernel = field(body, "kernel", int, 5, minimum=1, maximum=64)
    stride = field(body, "stride", int, 1, minimum=1, maximum=64)
    padding = field(body, "padding", int, 0, minimum=0, maximum=64)
    shapes = await run_limited(trace_layer, size, filters, kernel, stride, padding,
                               timeout_s=request.app.state.config.time_limit_s)
    return JSONResponse({**shapes.to_dict(), "text": format_layer(shapes)})


def _filters(image, weights, bias, stride, padding) -> dict[str, Any]:
    traced = trace_filters(image, weights, bias, stride, padding)
    answer = traced.to_dict()
    answer["sums"] = [[[result_text(plane, s) for s in plane.steps] for plane in planes]
                      for planes in traced.planes]
    answer["output_shape"] = list(traced.output.shape)
    return json_safe(answer)


async def filters(request: Request) -> JSONResponse:
    """POST {image (C x H x W), weights (K x C x F x F), bias (K), stride, padding} -> each
    filter's per-channel windows and the stacked output."""
    body = await read_json(request)
    image = number_array(body, "image", 3, FILTERS_MAX_SIDE)
    weights = number_array(body, "weights", 4, FILTERS_MAX_KERNEL)
    if max(image.shape[0], *weights.shape[:2]) > FILTERS_MAX_CHANNELS:
        raise ApiError(400, f"at most {FILTERS_MAX_CHANNELS} channels and "
                            f"{FILTERS_MAX_CHANNELS} filters")
    bias = number_array(body, "bias", 1, FILTERS_MAX_CHANNELS,
                        default=[0.0] * weights.shape[0])
    stride, padding = _settings(body)
    answer = await run_limited(_filters, image, weights, bias, stride, padding,
                               timeout_s=request.app.state.config.time_limit_s)
    return JSONResponse(answer)


def _maps(photo: str) -> dict[str, Any]:
    image = load_sample(photo, gray=False)
    side = min(image.shape[:2])
    top, left = (image.shape[0] - side) // 2, (image.shape[1] - side) // 2
    square = Image.fromarray(image[top:top + side, left:left + side])
    small = np.asarray(square.resize((MAPS_SIDE, MAPS_SIDE), Image.Resampling.BOX))
    x = small.transpose(2, 0, 1)[None].astype(np.float64)  # 1 x 3 x 32 x 32
    maps = conv2d(x, SIX_FILTERS)[0]  # 6 x 28 x 28
    layer = trace_layer((MAPS_SIDE, MAPS_SIDE, 3), len(SIX_FILTERS), SIX_FILTERS.shape[-1])
    return {"photo": photo, "input": small.tolist(), "maps": maps.tolist(),
            "filters": SIX_FILTER_NAMES, "weights": SIX_FILTERS.tolist(),
            "output_hwc": list(layer.output_hwc), "text": format_layer(layer)}


async def maps(request: Request) -> JSONResponse:
    """GET ?photo=cat -> a 32x32x3 crop of a sample photo, six 5x5x3 filters and their six
    28x28 activation maps (the reference conv2d, no bias)."""
    photo = request.query_params.get("photo", "cat")
    if photo not in SAMPLE_PHOTOS:
        raise ApiError(400, f"unknown photo {photo[:40]!r}: choose one of "
                            f"{', '.join(SAMPLE_PHOTOS)}")
    answer = await run_limited(_maps, photo, timeout_s=request.app.state.config.time_limit_s)
    return JSONResponse({**answer, "photos": list(SAMPLE_PHOTOS)})


async def examples(request: Request) -> JSONResponse:
    """GET -> the lecture's worked examples: conv inputs and kernels, the pooling map and the
    many-channel example."""
    convs = {name: {"description": e.description, "image": e.image.tolist(),
                    "kernel": e.kernel.tolist(), "stride": e.stride, "padding": e.padding}
             for name, e in CONV_EXAMPLES.items()}
    f = FILTERS_EXAMPLE
    return JSONResponse({
        "conv": convs, "pool": POOL_EXAMPLE.tolist(),
        "filters": {"description": f.description, "image": f.image.tolist(),
                    "weights": f.weights.tolist(), "bias": f.bias.tolist(),
                    "stride": f.stride, "padding": f.padding},
        "limits": {"side": MAX_SIDE, "kernel": MAX_KERNEL, "stride": MAX_STRIDE,
                   "padding": MAX_PADDING, "value": MAX_VALUE}})


ROUTES = [
    Route("/api/steps/examples", examples, methods=["GET"]),
    Route("/api/steps/conv", conv, methods=["POST"]),
    Route("/api/steps/pool", pool, methods=["POST"]),
    Route("/api/steps/layer", layer, methods=["POST"]),
    Route("/api/steps/filters", filters, methods=["POST"]),
    Route("/api/steps/maps", maps, methods=["GET"]),
]
