"""The Kernels page in headless Chromium: what the page draws and prints equals the library.

Pixels are read back from the canvases (getImageData), numbers from the DOM; the expected
values come from cnnlab.convolution, the code `cnnlab filter` and `cnnlab trace conv` run.
"""

from __future__ import annotations

import json
import re
import time

import numpy as np
import pytest
from playwright.sync_api import expect

from cnnlab.convolution.apply import filter_image
from cnnlab.convolution.kernels import KERNELS, custom_kernel
from cnnlab.convolution.pixel_step import step_at
from cnnlab.imaging import decode_image, load_sample
from cnnlab.studio.api import kernels as kernels_api
from cnnlab.studio.server import page_names

POINTS = [(0, 0), (100, 200), (257, 311), (511, 511), (400, 17)]
READ = """([id, points]) => {
  const canvas = document.getElementById(id);
  const zoom = Number(canvas.dataset.zoom);
  const ctx = canvas.getContext("2d");
  return points.map(([r, c]) => Array.from(
    ctx.getImageData(c * zoom + (zoom >> 1), r * zoom + (zoom >> 1), 1, 1).data));
}"""


def _open(page, live_url):
    page.goto(f"{live_url}/#/kernels")
    page.wait_for_selector("#page[data-ready=true]")
    page.wait_for_function("document.getElementById('page').dataset.pending === 'false'")


def _read(page, canvas_id, points):
    return np.array(page.evaluate(READ, [canvas_id, points]))


def _wait_for_kernel(page, matrix):
    page.wait_for_function(
        "(m) => document.getElementById('output').dataset.kernel === JSON.stringify(m)",
        arg=matrix)
    page.wait_for_function("document.getElementById('page').dataset.pending === 'false'")


def test_page_draws_the_photo_and_the_filtered_output(page, live_url):
    _open(page, live_url)
    photo = load_sample("astronaut", False)
    expected = filter_image(photo, KERNELS["sharpen"]).pixels  # cnnlab filter's defaults
    drawn_in = _read(page, "input", POINTS)
    drawn_out = _read(page, "output", POINTS)
    for (r, c), got_in, got_out in zip(POINTS, drawn_in, drawn_out, strict=True):
        assert list(got_in[:3]) == list(photo[r, c])
        assert list(got_out[:3]) == list(expected[r, c])
    assert not np.array_equal(drawn_in, drawn_out)  # a filter changed something
    formula = page.inner_text("#formula")
    assert "rows:    (512 - 3 + 2*1)/1 + 1 = 512" in formula
    assert page.inner_text("#output-size") == "512 x 512 x 3"
    assert page.locator("#nav a").all_inner_texts()[0] == "Kernels"


def test_editing_a_kernel_cell_updates_the_output(page, live_url):
    _open(page, live_url)
    cell = page.locator("#kernel-matrix input[data-row='1'][data-col='1']")
    cell.fill("")
    cell.type("4", delay=30)  # sharpen's centre 5 -> 4: an edge detector, display auto -> abs
    matrix = [[0.0, -1.0, 0.0], [-1.0, 4.0, -1.0], [0.0, -1.0, 0.0]]
    _wait_for_kernel(page, matrix)
    assert page.input_value("#kernel-name") == "custom"
    expected = filter_image(load_sample("astronaut", False), custom_kernel(np.array(matrix)))
    assert expected.display == "abs"
    drawn = _read(page, "output", POINTS)
    for (r, c), got in zip(POINTS, drawn, strict=True):
        assert list(got[:3]) == list(expected.pixels[r, c])


def test_settings_change_the_size_and_its_formula(page, live_url):
    _open(page, live_url)
    page.select_option("#kernel-name", "gaussian-blur-5x5")
    page.fill("#stride", "2")
    page.select_option("#padding", "valid")
    page.select_option("#color", "gray")
    page.wait_for_function("document.getElementById('output-size').textContent === '254 x 254 x 1'")
    assert "rows:    floor((512 - 5 + 2*0)/2) + 1 = 254" in page.inner_text("#formula")
    gray = load_sample("astronaut", True)
    expected = filter_image(gray, KERNELS["gaussian-blur-5x5"], 2, "valid").pixels
    points = [(0, 0), (100, 200), (253, 253)]
    for (r, c), got in zip(points, _read(page, "output", points), strict=True):
        assert list(got[:3]) == [expected[r, c]] * 3


def test_hovering_an_output_pixel_shows_its_trace(page, live_url):
    page.set_viewport_size({"width": 1700, "height": 1000})  # the output is drawn 1:1
    _open(page, live_url)
    box = page.locator("#output").bounding_box()
    assert box["width"] == pytest.approx(512, abs=1)
    row, col = 123, 321
    page.mouse.move(box["x"] + col + 0.5, box["y"] + row + 0.5)
    page.wait_for_selector(f"#hover[data-row='{row}'][data-col='{col}']")
    photo = load_sample("astronaut", False)
    kernel = KERNELS["sharpen"].matrix
    text = page.inner_text("#hover-steps")
    values = json.loads(page.get_attribute("#hover", "data-values"))
    for channel in range(3):
        step = step_at(photo[..., channel], kernel, row, col)
        assert "\n".join(step.lines()) in text
        assert values[channel] == step.step.value
    assert "-> " in text and "= " in text


def test_uploading_a_png_filters_it(page, live_url, make_png, tmp_path):
    _open(page, live_url)
    image = np.random.default_rng(1).integers(0, 256, (24, 40, 3), dtype=np.uint8)
    path = tmp_path / "tiny.png"
    path.write_bytes(make_png(image))
    page.set_input_files("#upload", str(path))
    page.wait_for_function("document.getElementById('output-size').textContent === '40 x 24 x 3'")
    assert page.input_value("#photo").startswith("upload:")
    expected = filter_image(decode_image(path.read_bytes()), KERNELS["sharpen"]).pixels
    points = [(0, 0), (12, 20), (23, 39)]
    for (r, c), got in zip(points, _read(page, "output", points), strict=True):
        assert list(got[:3]) == list(expected[r, c])
    assert int(page.get_attribute("#output", "data-zoom")) > 1  # drawn at a readable size


def test_bad_upload_and_bad_cell_show_the_servers_message(page, live_url, tmp_path):
    _open(page, live_url)
    path = tmp_path / "notes.png"
    path.write_text("not an image at all")
    page.set_input_files("#upload", str(path))
    page.wait_for_selector("#error-banner:not([hidden])")
    assert "not a PNG or JPEG image" in page.inner_text("#error-text")
    cell = page.locator("#kernel-matrix input[data-row='0'][data-col='0']")
    cell.fill("abc")
    page.wait_for_function("document.getElementById('error-text').textContent.includes('abc')")
    assert "'abc' is not a number" in page.inner_text("#error-text")
    cell.fill("1")  # fixed: the banner goes away and the output follows
    _wait_for_kernel(page, [[1.0, -1.0, 0.0], [-1.0, 5.0, -1.0], [0.0, -1.0, 0.0]])
    assert page.is_hidden("#error-banner")


def test_every_page_loads_under_the_content_security_policy(strict_page, live_url):
    pages = page_names()
    assert pages[0] == "kernels" and len(pages) >= 4
    strict = strict_page
    strict.goto(f"{live_url}/")
    strict.wait_for_selector("#nav a")
    hrefs = [a.get_attribute("href") for a in strict.locator("#nav a").all()]
    assert hrefs == [f"#/{name}" for name in pages]
    for name in pages:
        strict.goto(f"{live_url}/#/{name}")
        strict.wait_for_selector(f"#page[data-page='{name}'][data-ready=true]")
        # the page put something on screen (a page may fill in after mount resolves); no
        # wait_for_function here: its string predicate is an eval, which the policy forbids
        expect(strict.locator("#page")).to_have_text(re.compile(r"\S"), timeout=30_000)
    strict.goto(f"{live_url}/#/no-such-page")
    strict.wait_for_selector("#error-banner:not([hidden])")
    assert 'no page "no-such-page"' in strict.inner_text("#error-text")


def test_a_slow_answer_shows_that_the_page_is_working(page, live_url, monkeypatch):
    _open(page, live_url)
    assert page.is_hidden("#busy")
    real = kernels_api._apply

    def slow_apply(*args):
        time.sleep(2)
        return real(*args)

    monkeypatch.setattr(kernels_api, "_apply", slow_apply)
    page.fill("#stride", "2")
    page.wait_for_selector("#busy:not([hidden])")
    page.wait_for_function("document.getElementById('output-size').textContent === '256 x 256 x 3'")
    page.wait_for_selector("#busy", state="hidden")
