"""The Model explorer in Chromium: blocks expand, a layer's activation maps are drawn (pixels
read back from the canvases), Grad-CAM overlays the input, a clicked activation draws its
receptive field, and a Fashion-MNIST run shows its test images, filters and top patches."""

from __future__ import annotations

import base64
import io

import numpy as np
import pytest
from PIL import Image
from playwright.sync_api import expect

from cnnlab.studio.config import StudioConfig
from cnnlab.studio.serve import serve_in_thread

GREEN = (34, 197, 94)  # the theoretical field's box, as explorer_views.js draws it


@pytest.fixture(scope="module")
def explorer_url(explorer_runs):
    runs, _ = explorer_runs
    with serve_in_thread(StudioConfig(port=0, runs_dir=runs, time_limit_s=120)) as url:
        yield url


def _open(page, url: str, route: str) -> None:
    page.goto(f"{url}/#/explorer/{route}")
    page.wait_for_selector("#page[data-ready=true]", timeout=60_000)
    _settle(page)


def _settle(page) -> None:
    page.wait_for_function("document.getElementById('page').dataset.pending === '0' && "
                           "document.documentElement.dataset.requests === '0'", timeout=60_000)


def _pixel(page, testid: str, x: int, y: int) -> list[int]:
    return page.evaluate(
        "([id, x, y]) => Array.from(document.querySelector(`[data-testid='${id}']`)"
        ".getContext('2d').getImageData(x, y, 1, 1).data)", [testid, x, y])


def _api(page, url: str, path: str, body: dict) -> dict:
    return page.request.post(f"{url}/api/explorer/{path}", data=body).json()


def _levels(payload: dict) -> np.ndarray:
    data = np.frombuffer(base64.b64decode(payload["data"]), dtype=np.uint8)
    return data.reshape(payload["height"], payload["width"])


def _check_maps_drawn(page, url: str, body: dict) -> None:
    """The first map's canvas shows the API's levels, block by block."""
    answer = _api(page, url, "activations", {**body, "top": 16})
    canvas = page.get_by_test_id("act-0")
    assert int(canvas.get_attribute("data-channel")) == answer["channels"][0]["channel"]
    levels = _levels(answer["maps"][0])
    zoom = int(canvas.get_attribute("data-zoom"))
    assert levels.shape[0] * zoom >= 96  # a readable size, not a few-pixel thumbnail
    for row, col in [(0, 0), (levels.shape[0] // 2, levels.shape[1] // 3), (-1, -1)]:
        r, c = row % levels.shape[0], col % levels.shape[1]
        drawn = _pixel(page, "act-0", c * zoom + zoom // 2, r * zoom + zoom // 2)
        assert drawn[:3] == [int(levels[r, c])] * 3


def test_resnet18_blocks_maps_gradcam_and_field(page, explorer_url):
    _open(page, explorer_url, "model/resnet18/64")
    expect(page.get_by_test_id("title")).to_have_text("resnet18 at 64x64, input 3x64x64")
    expect(page.get_by_test_id("weights")).to_contain_text("random")
    table = _api(page, explorer_url, "table", {"model": "resnet18", "size": 64})
    rows = page.get_by_test_id("profile-layers").locator("tr[data-layer]")
    assert rows.count() == len(table["layers"])
    assert rows.nth(0).locator("td").all_inner_texts() == table["layers"][0]
    expect(page.get_by_test_id("top5").locator("li")).to_have_count(5)
    stage = page.get_by_test_id("block-layer2")
    expect(page.get_by_test_id("layer-layer2.0")).to_be_hidden()
    stage.locator("summary").first.click()
    expect(page.get_by_test_id("shortcut-layer2.0")).to_have_text("shortcut: projection")
    page.get_by_test_id("layer-layer2.0").click()
    page.wait_for_selector("[data-testid=act-15]")
    _settle(page)
    body = {"model": "resnet18", "size": 64, "image": {"photo": "sample:astronaut"},
            "layer": "layer2.0"}
    _check_maps_drawn(page, explorer_url, body)

    page.get_by_test_id("method-gradcam").check()
    page.wait_for_selector("[data-testid=heat][data-method=gradcam]")
    expect(page.get_by_test_id("attribution-text")).to_contain_text("gradcam at layer4")
    heat = page.get_by_test_id("heat")
    assert heat.get_attribute("width") == page.get_by_test_id("input").get_attribute("width")
    third = page.get_by_test_id("top5").locator("li").nth(2)
    third.click()
    expect(page.get_by_test_id("attribution-text")).to_contain_text(
        f"class {third.inner_text().split(maxsplit=1)[1].split(' (class')[0]} (p =")
    page.get_by_test_id("cam-at-layer").check()
    expect(page.get_by_test_id("attribution-text")).to_contain_text("gradcam at layer2.0")
    _settle(page)

    canvas = page.get_by_test_id("act-0")
    box = canvas.bounding_box()
    canvas.click(position={"x": box["width"] * 0.5, "y": box["height"] * 0.5})
    page.wait_for_selector("[data-testid=boxes][data-box]")
    top, left, _, right = map(int, page.get_by_test_id("boxes").get_attribute(
        "data-box").split(","))
    zoom = int(page.get_by_test_id("input").get_attribute("data-zoom"))
    edge = _pixel(page, "boxes", (left + right) * zoom // 2, top * zoom + 2)
    assert tuple(edge[:3]) == GREEN and edge[3] == 255
    expect(page.get_by_test_id("field-text")).to_contain_text("theoretical field")


def test_googlenet_inception_branches(page, explorer_url):
    _open(page, explorer_url, "model/googlenet/64")
    module = page.get_by_test_id("block-inception3a")
    expect(module.locator(".branches > .block")).to_have_count(4)
    page.get_by_test_id("layer-inception3a").click()
    page.wait_for_selector("[data-testid=act-0]")
    _settle(page)
    _check_maps_drawn(page, explorer_url, {"model": "googlenet", "size": 64,
                                           "image": {"photo": "sample:astronaut"},
                                           "layer": "inception3a"})


def test_fashion_run_test_images_filters_patches(page, explorer_url):
    _open(page, explorer_url, "run/tiny")
    expect(page.get_by_test_id("image-source")).to_have_value("test")
    expect(page.get_by_test_id("input-note")).to_contain_text("28x28 pixels, drawn x16")
    assert page.get_by_test_id("input").bounding_box()["width"] >= 400
    page.get_by_test_id("test-index").fill("7")
    page.get_by_test_id("test-index").dispatch_event("change")
    _settle(page)
    expect(page.get_by_test_id("input-note")).to_contain_text("True class")
    page.get_by_test_id("layer-features.0").click()
    page.wait_for_selector("[data-testid=filter-0]")
    page.wait_for_selector("[data-testid=act-0]")
    _settle(page)
    _check_maps_drawn(page, explorer_url, {"run": "tiny", "image": {"run": "tiny", "index": 7},
                                           "layer": "features.0"})
    page.get_by_test_id("layer-features.4").click()
    page.wait_for_selector("[data-testid=filter-input-channel]")
    _settle(page)
    deeper = _api(page, explorer_url, "filters", {"run": "tiny", "layer": "features.4",
                                                  "input_channel": 5})
    page.get_by_test_id("filter-input-channel").fill("5")
    page.get_by_test_id("filter-input-channel").dispatch_event("change")
    expect(page.get_by_test_id("filters").locator("canvas")).to_have_count(
        len(deeper["tiles"]))
    expect(page.get_by_test_id("filters-box")).to_contain_text("input channel 5")
    page.get_by_test_id("patch-images").fill("40")
    page.get_by_test_id("show-patches").click()
    page.wait_for_selector("[data-testid=patch-8]")


def _canvas_levels(page, testid: str) -> np.ndarray:
    """The canvas's red channel at the centre of each drawn block (one block per source
    pixel), as a H x W array."""
    canvas = page.get_by_test_id(testid)
    zoom = int(canvas.get_attribute("data-zoom"))
    width, height, data = page.evaluate(
        "(id) => { const c = document.querySelector(`[data-testid='${id}']`); return [c.width, "
        "c.height, Array.from(c.getContext('2d').getImageData(0, 0, c.width, c.height).data)]; }",
        testid)
    rgba = np.array(data, dtype=np.uint8).reshape(height, width, 4)
    return rgba[zoom // 2::zoom, zoom // 2::zoom, 0]


def test_browse_by_class_opens_that_test_image(page, explorer_url):
    first = page.request.get(f"{explorer_url}/api/runs/tiny/image/0")
    label = (int(first.headers["x-label"]) + 1) % 10  # a class other than the first image's
    listed = page.request.get(f"{explorer_url}/api/runs/tiny/images?label={label}&limit=12").json()
    assert listed["images"] and {im["label"] for im in listed["images"]} == {label}
    chosen = listed["images"][1]["index"]
    _open(page, explorer_url, "run/tiny")
    before = page.get_by_test_id("top5").inner_text()
    page.get_by_test_id("browse-class").select_option(str(label))
    thumbs = page.get_by_test_id("browse").locator("img")
    expect(thumbs).to_have_count(len(listed["images"]))
    expect(thumbs.nth(1)).to_have_attribute("data-index", str(chosen))
    thumbs.nth(1).click()
    _settle(page)
    expect(page.get_by_test_id("test-index")).to_have_value(str(chosen))
    expect(page.get_by_test_id("input-note")).to_contain_text(f"True class: "
                                                             f"{listed['classes'][label]}")
    png = page.request.get(f"{explorer_url}/api/runs/tiny/image/{chosen}").body()
    expected = np.asarray(Image.open(io.BytesIO(png)))
    drawn = _canvas_levels(page, "input")
    assert drawn.shape == expected.shape == (28, 28)
    assert np.abs(drawn.astype(int) - expected).max() <= 1  # the model's input, denormalized
    answer = _api(page, explorer_url, "predict", {"run": "tiny",
                                                  "image": {"run": "tiny", "index": chosen}})
    shown = page.get_by_test_id("top5").locator("li")
    for item, top in zip(shown.all_inner_texts(), answer["top"], strict=True):
        assert item.startswith(f"{100 * top['probability']:.2f}% {top['class']}")
    assert page.get_by_test_id("top5").inner_text() != before


def test_errors_are_shown_on_the_page(page, explorer_url):
    page.goto(f"{explorer_url}/#/explorer/model/resnet9000")
    expect(page.locator("#error-text")).to_contain_text("unknown model 'resnet9000'")
    page.goto(f"{explorer_url}/#/explorer/run/broken")
    expect(page.locator("#error-text")).to_contain_text("broken")
    page.goto(f"{explorer_url}/#/explorer/run/..%2F..%2Fetc")
    expect(page.locator("#error-text")).to_contain_text("not a run id")
