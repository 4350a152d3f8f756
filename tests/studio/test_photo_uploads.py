"""Photos: only the bundled samples are served; uploads are capped and hostile ones get a 4xx
naming the cause, after which the server keeps serving."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import anyio
import numpy as np
import pytest
from starlette.testclient import TestClient

from cnnlab.imaging import SAMPLE_PHOTOS, load_sample
from cnnlab.studio import work
from cnnlab.studio.config import StudioConfig
from cnnlab.studio.http import ApiError
from cnnlab.studio.server import create_app

RNG = np.random.default_rng(5)


def _run_async(fn) -> None:
    """``anyio.run(fn)`` in a thread of its own: a Playwright test earlier in the same process
    leaves an asyncio loop set on the main thread, where anyio.run would refuse to start."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(anyio.run, fn).result()


def _client(**limits) -> TestClient:
    return TestClient(create_app(StudioConfig(**limits)), base_url="http://127.0.0.1")


def test_sample_list_and_pixels_are_scikit_images(client, decode):
    listed = client.get("/api/photos").json()
    assert [s["name"] for s in listed["samples"]] == list(SAMPLE_PHOTOS)
    assert listed["max_upload_bytes"] == 20 * 1024 * 1024
    for color in ("rgb", "gray"):
        answer = client.get(f"/api/photos/sample:coffee?color={color}")
        assert answer.status_code == 200
        expected = load_sample("coffee", color == "gray")
        np.testing.assert_array_equal(decode(answer.json()["pixels"]), expected)


@pytest.mark.parametrize("photo_id", ["coffee", "sample:", "sample:../coffee", "file:/etc/passwd",
                                      "upload:0123456789abcdef", "sample:__init__"])
def test_unknown_photo_ids_are_404(client, photo_id):
    answer = client.get(f"/api/photos/{photo_id}")
    assert answer.status_code == 404
    assert "photo" in answer.json()["error"] or "upload" in answer.json()["error"]


def test_upload_round_trip_keeps_the_pixels(client, decode, make_png):
    image = RNG.integers(0, 256, (20, 30, 3), dtype=np.uint8)
    answer = client.post("/api/photos", content=make_png(image),
                         headers={"x-filename": "my%20photo.png"})
    assert answer.status_code == 201
    assert answer.json()["name"] == "my photo.png"
    pixels = client.get(f"/api/photos/{answer.json()['id']}").json()["pixels"]
    np.testing.assert_array_equal(decode(pixels), image)


def test_jpeg_upload_is_accepted(client, make_png):
    answer = client.post("/api/photos", content=make_png(np.full((8, 8, 3), 90, np.uint8),
                                                         "JPEG"))
    assert answer.status_code == 201 and answer.json()["width"] == 8


@pytest.mark.parametrize(("body", "status", "message"), [
    (b"", 400, "the file is empty"),
    (b"GIF89a not really", 415, "not a PNG or JPEG image"),
    (b"<html>hello</html>", 415, "not a PNG or JPEG image"),
    ("gif", 415, "not a PNG or JPEG image"),
    ("truncated", 400, "cannot decode image"),
])
def test_bad_uploads_get_4xx_with_the_cause(client, make_png, body, status, message):
    image = RNG.integers(0, 256, (64, 64, 3), dtype=np.uint8)
    if body == "gif":
        body = make_png(image, "GIF")
    elif body == "truncated":
        body = make_png(image)[:400]
    answer = client.post("/api/photos", content=body)
    assert answer.status_code == status
    assert message in answer.json()["error"]
    assert client.get("/api/kernels").status_code == 200  # still serving


def test_upload_size_cap_is_413_before_decoding(make_png):
    with _client(max_upload_bytes=1000) as small:
        big = make_png(RNG.integers(0, 256, (64, 64, 3), dtype=np.uint8))
        assert len(big) > 1000
        answer = small.post("/api/photos", content=big)
        assert answer.status_code == 413
        assert "the limit is 1,000 bytes" in answer.json()["error"]
        assert small.post("/api/photos", content=make_png(np.zeros((4, 4), np.uint8))
                          ).status_code == 201


def test_chunked_upload_over_the_cap_is_413(make_png):
    with _client(max_upload_bytes=1000) as small:
        chunks = iter([b"\x89PNG" + b"0" * 600, b"0" * 600])
        answer = small.post("/api/photos", content=chunks)  # no Content-Length
        assert answer.status_code == 413


def test_pixel_limit_is_413(make_png):
    with _client(max_pixels=100) as small:
        answer = small.post("/api/photos", content=make_png(np.zeros((11, 10), np.uint8)))
        assert answer.status_code == 413
        assert "110 pixels exceeds the limit of 100" in answer.json()["error"]


def test_old_uploads_are_dropped_with_a_message(make_png):
    with _client(uploads_kept=2) as small:
        ids = [small.post("/api/photos", content=make_png(np.full((4, 4), v, np.uint8))
                          ).json()["id"] for v in (1, 2, 3)]
        assert small.get(f"/api/photos/{ids[2]}").status_code == 200
        answer = small.get(f"/api/photos/{ids[0]}")
        assert answer.status_code == 404 and "upload it again" in answer.json()["error"]


def test_run_limited_answers_504_past_the_time_limit():
    async def slow():
        await work.run_limited(time.sleep, 0.5, timeout_s=0.05)

    with pytest.raises(ApiError) as caught:
        _run_async(slow)
    assert caught.value.status == 504


def test_run_limited_answers_503_when_every_worker_is_busy(monkeypatch):
    monkeypatch.setattr(work, "WORKERS", anyio.CapacityLimiter(1))
    statuses = {}

    async def one(name, delay, limit):
        try:
            await work.run_limited(time.sleep, delay, timeout_s=limit)
            statuses[name] = 200
        except ApiError as err:
            statuses[name] = err.status

    async def crowd():
        async with anyio.create_task_group() as group:
            group.start_soon(one, "holder", 0.6, 5.0)
            await anyio.sleep(0.05)
            group.start_soon(one, "waiter", 0.0, 0.2)  # cannot start while the holder runs

    _run_async(crowd)
    assert statuses == {"holder": 200, "waiter": 503}


def test_an_abandoned_computation_is_still_counted_until_it_ends():
    async def slow():
        await work.run_limited(time.sleep, 0.6, timeout_s=0.05)

    with pytest.raises(ApiError):
        _run_async(slow)
    assert work.running() >= 1  # past its limit, still running in its thread
    assert work.wait_idle(5.0) and work.running() == 0
