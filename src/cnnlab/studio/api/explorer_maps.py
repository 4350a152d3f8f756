"""The explorer's maps of one layer and one image: activations, a unit's receptive fields,
attributions (Grad-CAM, Grad-CAM++, saliency, guided backprop, deconvnet, occlusion) and a
run's top-activating test patches. Each is the call ``cnnlab viz`` makes; the page gets the
numbers of its ``--json`` and the pictures as uint8 pixels (``lib/canvas.js`` draws them).
"""

from __future__ import annotations

import json

import numpy as np
from matplotlib import colormaps
from starlette.requests import Request
from starlette.responses import JSONResponse

from cnnlab.complexity.receptive_field import receptive_field_map
from cnnlab.studio.explorer_requests import limited, open_image, open_model, uint8
from cnnlab.studio.http import ApiError, field, pixels_payload
from cnnlab.visualize import activations as act
from cnnlab.visualize import attribution as attr
from cnnlab.visualize import occlusion as occ
from cnnlab.visualize import top_patches as tp
from cnnlab.visualize.figures import rescale

ATTRIBUTION_METHODS = (*attr.METHODS, "occlusion")
MAX_MAPS = 64  # activation maps per answer: more are unreadable side by side
HEAT_COLORS = "inferno"  # the heat overlays' colour map (dark = no attribution)


def heat_pixels(heat: np.ndarray) -> dict:
    """H x W map >= 0, scaled to its own maximum and coloured, as RGB pixels."""
    peak = float(heat.max())
    scaled = heat / peak if peak > 0 else np.zeros_like(heat)
    rgb = colormaps[HEAT_COLORS](np.clip(scaled, 0, 1))[..., :3]
    return pixels_payload(uint8(rgb))


async def activations(request: Request) -> JSONResponse:
    """POST {model | run, image, layer, top?} -> the ``top`` channels by mean activation
    (``cnnlab viz activations``), strongest first, on one shared scale 0..max."""
    body, loaded = await open_model(request)
    layer = field(body, "layer", str)
    top = field(body, "top", int, default=16, minimum=1, maximum=MAX_MAPS)
    image = await open_image(request, body, loaded)

    def work() -> dict:
        maps = act.activation_maps(loaded.model, layer, image.x, top)
        scale = max(float(maps.maps.max()), 1e-12)  # as plot_activations: 0 .. the largest
        return {**maps.to_dict(), "scale": scale,
                "maps": [pixels_payload(uint8(m / scale)) for m in maps.maps]}

    return JSONResponse(await limited(request, loaded.compute,
                                      ("activations", image.key, layer, top), work))


async def receptive_field(request: Request) -> JSONResponse:
    """POST {model | run, image, layer, y, x, channel?} -> the unit's theoretical and
    effective receptive field (``cnnlab viz receptive-field``) and its gradient map."""
    body, loaded = await open_model(request)
    layer = field(body, "layer", str)
    y, x = field(body, "y", int, minimum=0), field(body, "x", int, minimum=0)
    channel = field(body, "channel", int, default=None, minimum=0)
    image = await open_image(request, body, loaded)

    def work() -> dict:
        result = receptive_field_map(loaded.model, image.x, layer, channel, y, x)
        return {**result.to_dict(), "gradient": heat_pixels(np.sqrt(result.gradient))}

    return JSONResponse(await limited(request, loaded.compute,
                                      ("field", image.key, layer, channel, y, x), work))


def _attribute(loaded, x, method: str, options: dict) -> dict:
    if method == "occlusion":
        result = occ.occlusion_map(loaded.model, x, loaded.meta, options["square"],
                                   options["stride"], options["target"],
                                   loaded.meta.get("classes"))
        # Red where covering the image lowers the probability: the drops, not the gains.
        return {**result.to_dict(), "heat": heat_pixels(np.clip(result.drop, 0, None))}
    result = attr.attribute(loaded.model, x, method, target=options["target"],
                            classes=loaded.meta.get("classes"), layer=options["layer"])
    numbers = json.loads(json.dumps(result.to_dict()))
    numbers.pop("cam", None)  # the layer-resolution map; the heat below is the upsampled one
    return {**numbers, "heat": heat_pixels(rescale(result.heat))}


async def attribution(request: Request) -> JSONResponse:
    """POST {model | run, image, method, target?, layer? (CAMs), square?, stride? (occlusion)}
    -> the map over the input (``cnnlab viz <method>``), coloured, and its numbers."""
    body, loaded = await open_model(request)
    method = field(body, "method", str, choices=ATTRIBUTION_METHODS)
    side = loaded.input_size[1]
    options = {"target": field(body, "target", int, default=None, minimum=0),
               "layer": field(body, "layer", str, default=None),
               "square": field(body, "square", int, default=None, minimum=1, maximum=side),
               "stride": field(body, "stride", int, default=None, minimum=1, maximum=side)}
    if method in attr.GRADIENT_METHODS:
        options["layer"] = None  # a layer (with a channel) would explain a unit, not a class
    image = await open_image(request, body, loaded)
    key = ("attribution", image.key, method, *sorted(options.items()))
    return JSONResponse(await limited(request, loaded.compute, key,
                                      lambda: _attribute(loaded, image.x, method, options)))


async def top_patches(request: Request) -> JSONResponse:
    """POST {run, layer, channel, images?, top?} -> the test patches that most activate the
    channel (``cnnlab viz top-patches`` on the run's test split, its first ``images``)."""
    body, loaded = await open_model(request)
    if loaded.subject.kind != "run":
        raise ApiError(400, "top patches search a run's test split; a zoo model has no dataset "
                            "of its own (use cnnlab viz top-patches --images FOLDER)")
    layer = field(body, "layer", str)
    channel = field(body, "channel", int, minimum=0)
    count = field(body, "images", int, default=1000, minimum=1, maximum=10_000)
    top = field(body, "top", int, default=9, minimum=1, maximum=36)

    def work() -> dict:
        # the data folder the run was trained from, as its checkpoint records it
        batches = tp.source_batches(loaded.meta, None, loaded.meta.get("data_dir"), count)
        result = tp.top_patches(loaded.model, layer, channel, batches, loaded.meta, top)
        return {**result.to_dict(), "patches": [pixels_payload(uint8(p))
                                                for p in result.patches]}

    return JSONResponse(await limited(request, loaded.compute,
                                      ("patches", layer, channel, count, top), work))
