"""Fuzzing the JSON API with hypothesis: whatever arrives, the answer is never a 500.

The TestClient re-raises any exception a handler lets escape, so a bug fails here as itself.
"""

from __future__ import annotations

import io
import json
import re
from urllib.parse import quote

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image
from starlette.routing import Route
from starlette.testclient import TestClient

from cnnlab.convolution.kernels import KERNELS
from cnnlab.studio.config import StudioConfig
from cnnlab.studio.server import create_app

FUZZ = settings(max_examples=80, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-10**6, 10**6)
    | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=12),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6),
                                                                      children, max_size=4),
    max_leaves=12)


@pytest.fixture(scope="module")
def fuzz_client():
    with TestClient(create_app(StudioConfig(time_limit_s=30)),
                    base_url="http://127.0.0.1") as client:
        image = np.random.default_rng(0).integers(0, 256, (12, 10, 3), dtype=np.uint8)
        buffer = io.BytesIO()
        Image.fromarray(image).save(buffer, format="PNG")
        client.photo_id = client.post("/api/photos", content=buffer.getvalue()).json()["id"]
        yield client


def _matrices():
    cells = st.integers(-9, 9) | st.floats(-1e7, 1e7, allow_nan=False) | st.text(max_size=4)
    sized = st.integers(1, 17).flatmap(lambda n: st.lists(st.lists(cells, min_size=n,
                                                                   max_size=n),
                                                          min_size=1, max_size=17))
    text = st.lists(st.sampled_from(["1", "-2", "1/9", "0.5", ",", ";", " ", "x", "1/0"]),
                    max_size=40).map("".join)
    return sized | text | json_values


def _kernel_bodies(photo_id: str):
    fields = {
        "photo": st.sampled_from([photo_id, photo_id, photo_id, "upload:", "sample:x"])
        | st.text(max_size=10),
        "kernel": st.sampled_from(list(KERNELS)) | st.text(max_size=10) | json_values,
        "matrix": _matrices(),
        "stride": st.integers(-2, 70) | json_values,
        "padding": st.sampled_from(["same", "valid", "3", "-1", "99"]) | st.integers(-3, 70),
        "border": st.sampled_from(["zero", "reflect", "replicate", "wrap"]) | json_values,
        "dilation": st.integers(-1, 20) | json_values,
        "color": st.sampled_from(["rgb", "gray", "hsv"]),
        "display": st.sampled_from(["auto", "clip", "abs", "minmax", "log"]),
        "row": st.integers(-3, 600) | json_values,
        "col": st.integers(-3, 600) | json_values,
    }
    plausible = st.fixed_dictionaries({}, optional=fields)
    return plausible | st.dictionaries(st.text(max_size=8), json_values, max_size=6)


def _check(answer) -> None:
    assert answer.status_code < 500, answer.text[:300]
    if answer.status_code >= 400 and answer.request.method != "HEAD":  # HEAD has no body
        assert answer.json()["error"]


@pytest.mark.parametrize("path", ["/api/kernels/apply", "/api/kernels/step"])
def test_kernel_endpoints_never_answer_500(fuzz_client, path):
    @FUZZ
    @given(body=_kernel_bodies(fuzz_client.photo_id))
    def run(body):
        _check(fuzz_client.post(path, json=body))

    run()


def _api_routes(app) -> list[tuple[str, str]]:
    found = []
    for route in app.routes:
        if isinstance(route, Route) and route.path.startswith("/api/"):
            found += [(method, route.path) for method in sorted(route.methods or ["GET"])]
    return found


def _fill(path: str, values: list[str]) -> str:
    parts = iter(values)
    return re.sub(r"\{[^}]+\}", lambda _: quote(next(parts, "x"), safe=":"), path)


def test_every_api_route_never_answers_500(fuzz_client):
    routes = _api_routes(fuzz_client.app)
    assert ("POST", "/api/kernels/apply") in routes and len(routes) >= 6

    @FUZZ
    @given(route=st.sampled_from(routes), params=st.lists(st.text(max_size=12), max_size=3),
           body=json_values | st.binary(max_size=64),
           kind=st.sampled_from(["application/json", "text/plain", "image/png", ""]),
           query=st.dictionaries(st.sampled_from(["color", "page", "x"]), st.text(max_size=6),
                                 max_size=2))
    def run(route, params, body, kind, query):
        method, path = route
        content = body if isinstance(body, bytes) else json.dumps(body).encode()
        headers = {"content-type": kind} if kind else {}
        answer = fuzz_client.request(method, _fill(path, params), content=content,
                                     headers=headers, params=query)
        _check(answer)

    run()


def _encoded(format: str) -> bytes:
    image = np.random.default_rng(1).integers(0, 256, (16, 16, 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format=format)
    return buffer.getvalue()


@pytest.mark.parametrize("format", ["PNG", "JPEG"])
def test_damaged_uploads_never_answer_500(fuzz_client, format):
    original = _encoded(format)

    @FUZZ
    @given(cut=st.integers(0, len(original)),
           flips=st.lists(st.tuples(st.integers(0, len(original) - 1), st.integers(0, 255)),
                          max_size=8))
    def run(cut, flips):
        data = bytearray(original)
        for position, value in flips:
            data[position] = value
        answer = fuzz_client.post("/api/photos", content=bytes(data[:cut]))
        _check(answer)
        assert answer.status_code in (201, 400, 413, 415)

    run()
