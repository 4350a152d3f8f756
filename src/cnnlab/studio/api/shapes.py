"""The Shapes page's API: ``cnnlab shape``'s layer-by-layer output sizes, with each layer's
receptive field, and the lecture's VGG-16 memory table as a preset.

The sizes, parameters and activations are ``cnnlab.convolution.shapes.shape_stack``'s (what the
CLI prints); the receptive fields are ``cnnlab.complexity.receptive_field.compose``'s.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from cnnlab.complexity.receptive_field import Field, compose, globalize
from cnnlab.convolution.shapes import ROUNDINGS, LayerSpec, parse_layer, parse_size, shape_stack
from cnnlab.errors import CnnlabError
from cnnlab.models.vgg import CONFIGS
from cnnlab.papers import compare
from cnnlab.papers import tables as paper
from cnnlab.studio.http import ApiError, field, read_json
from cnnlab.studio.work import run_limited

MAX_LAYERS = 64
MAX_SIDE = 100_000


def _vgg_specs(config: str) -> list[str]:
    """A VGG column of ``models.vgg.CONFIGS`` as layer specs, then its FC-4096, FC-4096,
    FC-1000 head (the ReLUs are left out, as the lecture's table leaves them out)."""
    specs = []
    for entry in CONFIGS[config]:
        if entry == "maxpool":
            specs.append("pool:2,2")
        elif entry == "LRN":
            specs.append("norm")
        else:
            kernel, width = (int(part) for part in entry.removeprefix("conv").split("-"))
            specs.append(f"conv:{width},{kernel},1,{kernel // 2}")
    return [*specs, "fc:4096", "fc:4096", "fc:1000"]


PRESETS: dict[str, dict[str, Any]] = {
    "vgg16": {"title": "VGG-16 (configuration D): the lecture's memory table",
              "input": "224x224x3", "layers": _vgg_specs("D"), "compare": "vgg16"},
    "lecture": {"title": "32x32x3 image, six 5x5x3 filters -> 28x28x6",
                "input": "32x32x3", "layers": ["conv:6,5"], "compare": None},
    "stride": {"title": "7x7 input, 3x3 filter, stride 2 -> 3x3", "input": "7x7x1",
               "layers": ["conv:1,3,2"], "compare": None},
    "padding": {"title": "7x7 input, 3x3 filter, pad 1 -> 7x7", "input": "7x7x1",
                "layers": ["conv:1,3,1,1"], "compare": None},
}


def _field_after(rf: Field, spec: LayerSpec, grid: tuple[int, int]) -> Field:
    if spec.kind in ("conv", "maxpool", "avgpool"):
        return compose(rf, (spec.kernel,) * 2, (spec.stride,) * 2, (spec.padding,) * 2,
                       (spec.dilation,) * 2)
    if spec.kind == "fc":
        return globalize(rf, grid)  # every output sees every input unit
    return rf


def stack_answer(size: tuple[int, int, int], specs: list[LayerSpec], rounding: str
                 ) -> dict[str, Any]:
    """Each layer's row of ``cnnlab shape --json`` plus its receptive field (per axis: size in
    input pixels, jump between neighbouring units; jump 0 once the map has no position)."""
    rows = shape_stack(size, specs, rounding)
    rf, grid, layers = Field.identity(), size[:2], []
    for spec, row in zip(specs, rows, strict=True):
        rf = _field_after(rf, spec, grid)
        grid = row.output[:2]
        layers.append({**row.to_dict(), "params": row.weights + row.biases,
                       "receptive_field": {"size": list(rf.size), "jump": list(rf.jump),
                                           "global": rf.is_global()}})
    return {"input": list(size), "rounding": rounding, "layers": layers,
            "total_params": sum(r.weights + r.biases for r in rows),
            "total_activations": size[0] * size[1] * size[2] + sum(r.activations for r in rows)}


def vgg16_slide(answer: dict[str, Any]) -> dict[str, Any]:
    """The lecture's VGG-16 rows beside ours, paired in order (INPUT first), each with
    ``compare.slide_row_matches``'s verdict, and the notes of ``cnnlab tables --table vgg16``."""
    height, width, channels = answer["input"]
    ours = [(answer["input"], height * width * channels, 0)]
    ours += [(r["output"], r["activations"], r["weights"]) for r in answer["layers"]]
    rows = []
    for slide, (shape, values, weights) in zip(paper.VGG16_LAYERS, ours, strict=False):
        rows.append({"label": slide.label, "shape": list(slide.shape), "memory": slide.memory,
                     "params": slide.params,
                     "matches": compare.slide_row_matches(slide, tuple(shape), values, weights)})
    return {"source": paper.VGG_SLIDE, "rows": rows, "total_memory": paper.VGG16_TOTAL_MEMORY,
            "total_params": paper.VGG16_TOTAL_PARAMS, "notes": compare.vgg16_table().notes}


def _layers(body: dict[str, Any]) -> list[LayerSpec]:
    texts = field(body, "layers", list)
    if not 1 <= len(texts) <= MAX_LAYERS:
        raise ApiError(400, f"field 'layers' must hold 1 to {MAX_LAYERS} layers, got "
                            f"{len(texts)}")
    specs = []
    for i, text in enumerate(texts, 1):
        if not isinstance(text, str):
            raise ApiError(400, f"layer {i}: write it as text like 'conv:64,3,1,1'")
        try:
            specs.append(parse_layer(text))
        except CnnlabError as err:
            raise ApiError(400, f"layer {i}: {err}") from None
    return specs


def _compute(size, specs, rounding, against) -> dict[str, Any]:
    answer = stack_answer(size, specs, rounding)
    if against == "vgg16":
        answer["slide"] = vgg16_slide(answer)
    return answer


async def shapes(request: Request) -> JSONResponse:
    """POST {input: "224x224x3", layers: ["conv:64,3,1,1", ...], rounding, compare} -> rows."""
    body = await read_json(request)
    size = parse_size(field(body, "input", str, "224x224x3"))
    if max(size) > MAX_SIDE:
        raise ApiError(400, f"field 'input': sides of at most {MAX_SIDE:,}")
    specs = _layers(body)
    rounding = field(body, "rounding", str, "strict", choices=ROUNDINGS)
    against = field(body, "compare", str, None, choices=("vgg16",))
    answer = await run_limited(_compute, size, specs, rounding, against,
                               timeout_s=request.app.state.config.time_limit_s)
    return JSONResponse(answer)


async def presets(request: Request) -> JSONResponse:
    """GET -> the presets: title, input size, layer specs and the table they compare with."""
    return JSONResponse(PRESETS)


ROUTES = [
    Route("/api/shapes", shapes, methods=["POST"]),
    Route("/api/shapes/presets", presets, methods=["GET"]),
]
