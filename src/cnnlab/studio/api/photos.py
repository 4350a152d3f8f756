"""Photos for the pages: scikit-image's bundled samples (only those) and PNG/JPEG uploads.

A photo is named by an id, ``sample:<name>`` or ``upload:<hash>``, never by a file path, so
nothing else on the disk can be reached through the API.
"""

from __future__ import annotations

import re
from functools import lru_cache
from urllib.parse import unquote

import numpy as np
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from cnnlab.errors import CnnlabError
from cnnlab.imaging import SAMPLE_PHOTOS, decode_image, load_sample
from cnnlab.studio.http import ApiError, pixels_payload, read_body
from cnnlab.studio.uploads import Photo, UploadStore
from cnnlab.studio.work import run_limited

UPLOAD_FORMATS = ("PNG", "JPEG")
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._ -]")


@lru_cache(maxsize=2 * len(SAMPLE_PHOTOS))
def _sample(name: str, gray: bool) -> np.ndarray:
    image = load_sample(name, gray)
    image.setflags(write=False)
    return image


def photo_array(request: Request, photo_id: str, gray: bool) -> np.ndarray:
    """The uint8 pixels of ``photo_id``: (H, W) with ``gray``, else (H, W, 3).

    Raises:
        ApiError: 404 for an id that names no sample and no kept upload.
    """
    kind, _, name = photo_id.partition(":")
    if kind == "sample" and name in SAMPLE_PHOTOS:
        return _sample(name, gray)
    if kind == "upload":
        photo = request.app.state.uploads.get(name)
        if photo is not None:
            return photo.gray if gray else photo.rgb
        raise ApiError(404, f"upload {name!r} is not kept any more (the studio keeps the last "
                            f"{request.app.state.config.uploads_kept}); upload it again")
    raise ApiError(404, f"no photo {photo_id!r}: use sample:<name> with one of "
                        f"{', '.join(SAMPLE_PHOTOS)}, or upload:<id> from an upload")


async def list_photos(request: Request) -> JSONResponse:
    config = request.app.state.config
    samples = []
    for name in SAMPLE_PHOTOS:
        image = await run_limited(_sample, name, False, timeout_s=config.time_limit_s)
        samples.append({"id": f"sample:{name}", "name": name, "height": image.shape[0],
                        "width": image.shape[1]})
    return JSONResponse({"samples": samples, "formats": list(UPLOAD_FORMATS),
                         "max_upload_bytes": config.max_upload_bytes,
                         "max_pixels": config.max_pixels})


async def photo_pixels(request: Request) -> JSONResponse:
    color = request.query_params.get("color", "rgb")
    if color not in ("rgb", "gray"):
        raise ApiError(400, f"color must be rgb or gray, got {color!r}")
    image = photo_array(request, request.path_params["photo_id"], color == "gray")
    payload = await run_limited(pixels_payload, image,
                                timeout_s=request.app.state.config.time_limit_s)
    return JSONResponse({"id": request.path_params["photo_id"], "pixels": payload})


def _decode_both(data: bytes, name: str, max_pixels: int) -> Photo:
    rgb = decode_image(data, name, "RGB", max_pixels, UPLOAD_FORMATS)
    # Decoded again as L, so gray equals what `cnnlab filter --gray` reads from the same file.
    gray = decode_image(data, name, "L", max_pixels, UPLOAD_FORMATS)
    return Photo(name, rgb, gray)


async def upload_photo(request: Request) -> JSONResponse:
    """The body is the file itself (no multipart form); the name comes from X-Filename."""
    config = request.app.state.config
    typed = unquote(request.headers.get("x-filename", "upload"))
    name = _SAFE_NAME.sub("_", typed)[:80] or "upload"  # only ever shown, never a path
    data = await read_body(request, config.max_upload_bytes)
    try:
        photo = await run_limited(_decode_both, data, name, config.max_pixels,
                                  timeout_s=config.time_limit_s)
    except CnnlabError as err:
        raise _upload_error(err) from None
    store: UploadStore = request.app.state.uploads
    key = store.key(data)
    store.put(key, photo)
    height, width = photo.rgb.shape[:2]
    return JSONResponse({"id": f"upload:{key}", "name": name, "height": height,
                         "width": width}, status_code=201)


def _upload_error(err: CnnlabError) -> ApiError:
    """The status that fits why decoding failed: too many pixels is 413, not a PNG/JPEG 415."""
    message = str(err)
    if "exceeds the limit" in message:
        return ApiError(413, message)
    if "not a PNG or JPEG" in message:
        return ApiError(415, message)
    return ApiError(400, message)


ROUTES = [
    Route("/api/photos", list_photos, methods=["GET"]),
    Route("/api/photos", upload_photo, methods=["POST"]),
    Route("/api/photos/{photo_id}", photo_pixels, methods=["GET"]),
]
