"""The Step by step page in Chromium: what it shows equals cnnlab.convolution's numbers."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from playwright.sync_api import expect

from cnnlab.convolution.examples import FILTERS_EXAMPLE, SIX_FILTERS, conv_example
from cnnlab.convolution.steps import trace_conv
from cnnlab.convolution.steps_text import sum_text

FIRST_SUM = "1×1 + 1×0 + 1×1 + 0×0 + 1×1 + 1×0 + 0×1 + 0×0 + 1×1 = 4"  # lecture line 136


def _open(page, live_url):
    page.goto(f"{live_url}/#/steps")
    page.wait_for_selector("#page[data-ready=true]")


def _cells(page, testid: str) -> list[float]:
    texts = page.locator(f"[data-testid={testid}] td").all_inner_texts()
    return [float(t.split("×")[0]) for t in texts]


def test_conv_steps_through_the_nine_lecture_sums(page, live_url):
    _open(page, live_url)
    expect(page.get_by_test_id("conv-sum")).to_have_text(f"out[0,0] = {FIRST_SUM}")
    # Output cells appear one step at a time: only out[0,0] at first.
    assert page.locator("[data-testid=conv-output] td[data-value]").count() == 1
    for _ in range(8):
        page.get_by_test_id("conv-step").click()
    expect(page.get_by_test_id("conv-where")).to_have_text("step 9 of 9")
    assert _cells(page, "conv-output") == [4, 3, 4, 2, 4, 3, 2, 3, 4]
    # Scrub back to the fourth window: the slide's "... = 2".
    page.get_by_test_id("conv-scrub").fill("3")
    expect(page.get_by_test_id("conv-sum")).to_have_text(
        "out[1,0] = 0×1 + 1×0 + 1×1 + 0×0 + 0×1 + 1×0 + 0×1 + 0×0 + 1×1 = 2")
    # The window under the kernel is marked on the input, with the kernel weights beside.
    assert page.locator("[data-testid=conv-input] td.win").count() == 9
    page.get_by_test_id("conv-play").click()
    page.wait_for_function("document.querySelector('[data-testid=conv]').dataset.index > '3'")
    page.get_by_test_id("conv-play").click()


def test_editing_a_cell_recomputes_with_the_library(page, live_url):
    _open(page, live_url)
    page.locator("[data-testid=conv-image] input[data-row='0'][data-col='0']").fill("5")
    page.locator("[data-testid=conv-kernel] input[data-row='1'][data-col='1']").fill("-2")
    example = conv_example("lecture")
    image, kernel = example.image.copy(), example.kernel.copy()
    image[0, 0], kernel[1, 1] = 5, -2
    trace = trace_conv(image, kernel)
    expect(page.get_by_test_id("conv-sum")).to_have_text(
        f"out[0,0] = {sum_text(trace.steps[0], kernel)}")
    page.get_by_test_id("conv-scrub").fill("8")
    expect(page.get_by_test_id("conv-where")).to_have_text("step 9 of 9")
    assert _cells(page, "conv-output") == trace.output.ravel().tolist()
    assert _cells(page, "conv-after-relu") == np.maximum(trace.output, 0).ravel().tolist()


def test_stride_padding_and_the_same_padding_rule(page, live_url):
    _open(page, live_url)
    page.get_by_test_id("conv-example").select_option("stride")
    expect(page.get_by_test_id("conv-shape")).to_have_text("input 7x7 → output 3x3")
    page.get_by_test_id("conv-example").select_option("padding")
    shape = page.get_by_test_id("conv-shape")
    expect(shape).to_have_text("input 7x7 → output 7x7 (size preserved)")
    expect(page.get_by_test_id("conv-formula")).to_have_text("output size: (7 - 3 + 2*1)/1 + 1 = 7")
    page.get_by_test_id("conv-example").select_option("lecture")
    expect(page.get_by_test_id("conv-shape")).to_have_text("input 5x5 → output 3x3")
    page.get_by_test_id("conv-same").click()
    expect(shape).to_have_text("input 5x5 → output 5x5 (size preserved)")
    # A 5x5 kernel (new cells 0) on the padded 5x5 input: pad 2 now preserves the size.
    page.get_by_test_id("conv-ksize").fill("5")
    page.get_by_test_id("conv-ksize").dispatch_event("change")
    expect(shape).to_have_text("input 5x5 → output 3x3")
    page.get_by_test_id("conv-same").click()
    expect(page.get_by_test_id("conv-padding")).to_have_value("2")
    expect(shape).to_have_text("input 5x5 → output 5x5 (size preserved)")
    # A stride that does not tile the input: the server's reason is shown, not a blank grid.
    page.get_by_test_id("conv-padding").fill("1")  # (5 - 5 + 2*1)/3 + 1 is not whole
    page.get_by_test_id("conv-stride").fill("3")
    expect(page.locator("#error-text")).to_contain_text("is not an integer")


def test_pooling_step_by_step_max_and_average(page, live_url):
    _open(page, live_url)
    expect(page.get_by_test_id("pool-sum")).to_have_text("out[0,0] = max(4, 3, 2, 4) = 4")
    page.get_by_test_id("pool-op").select_option("avg")
    expect(page.get_by_test_id("pool-sum")).to_have_text("out[0,0] = mean(4, 3, 2, 4) = 3.25")
    page.get_by_test_id("pool-scrub").fill("3")
    expected = F.avg_pool2d(torch.tensor([[[[4.0, 3, 4], [2, 4, 3], [2, 3, 4]]]]), 2, 1)
    expect(page.get_by_test_id("pool-where")).to_have_text("step 4 of 4")
    assert _cells(page, "pool-output") == expected.ravel().tolist()
    # Stride 2 does not tile a 3x3 map: the server's reason is shown.
    page.get_by_test_id("pool-op").select_option("max")
    page.get_by_test_id("pool-stride").select_option("2")
    expect(page.locator("#error-text")).to_contain_text("not an integer")
    # On a 4x4 input (the new cells are 0), 2x2 windows with stride 2 do not overlap.
    for name in ("pool-rows", "pool-cols"):
        page.get_by_test_id(name).fill("4")
        page.get_by_test_id(name).dispatch_event("change")
    page.locator("[data-testid=pool-image] input[data-row='3'][data-col='3']").fill("9")
    grid = np.zeros((4, 4))
    grid[:3, :3] = [[4, 3, 4], [2, 4, 3], [2, 3, 4]]
    grid[3, 3] = 9
    expected = F.max_pool2d(torch.tensor(grid)[None, None], 2, 2)[0, 0]
    page.get_by_test_id("pool-scrub").fill("3")
    expect(page.get_by_test_id("pool-sum")).to_have_text("out[1,1] = max(4, 0, 0, 9) = 9")
    assert _cells(page, "pool-output") == expected.ravel().tolist()


def test_pooling_takes_the_relu_map_of_the_conv(page, live_url):
    _open(page, live_url)
    page.locator("[data-testid=conv-kernel] input[data-row='1'][data-col='1']").fill("-3")
    example = conv_example("lecture")
    kernel = example.kernel.copy()
    kernel[1, 1] = -3
    relu = np.maximum(trace_conv(example.image, kernel).output, 0)
    assert relu.min() == 0 < relu.max()
    expect(page.locator("[data-testid=conv-after-relu] td").first).to_have_text(
        f"{relu[0, 0]:g}")
    page.get_by_test_id("pool-use-conv").click()
    values = [float(v) for v in page.locator("[data-testid=pool-image] input").evaluate_all(
        "inputs => inputs.map((i) => i.value)")]
    assert values == relu.ravel().tolist()


def test_curve_detector_and_many_filters(page, live_url):
    _open(page, live_url)
    expect(page.get_by_test_id("curve-on-value")).to_have_text("6600")
    expect(page.get_by_test_id("curve-off-value")).to_have_text("0")
    expect(page.get_by_test_id("layer-output")).to_have_text("28x28x6")
    e = FILTERS_EXAMPLE
    out = F.conv2d(torch.tensor(e.image)[None], torch.tensor(e.weights), torch.tensor(e.bias),
                   stride=e.stride, padding=e.padding)[0].numpy()
    expect(page.get_by_test_id("filters-value")).to_have_text(f"{out[0, 0, 0]:g}")
    page.get_by_test_id("filters-which").select_option("1")
    page.get_by_test_id("filters-scrub").fill("4")
    expect(page.get_by_test_id("filters-value")).to_have_text(f"{out[1, 1, 1]:g}")
    page.get_by_test_id("layer-filters").fill("2")
    page.get_by_test_id("layer-filters").dispatch_event("change")
    expect(page.get_by_test_id("layer-output")).to_have_text("28x28x2")


def _pixel(page, testid: str, row: int, col: int) -> list[int]:
    return page.evaluate("""([testid, row, col]) => {
        const canvas = document.querySelector(`[data-testid=${testid}]`);
        const zoom = Number(canvas.dataset.zoom);
        const at = (v) => v * zoom + Math.floor(zoom / 2);
        return Array.from(canvas.getContext("2d").getImageData(at(col), at(row), 1, 1).data);
    }""", [testid, row, col])


def test_six_activation_maps_are_drawn_from_the_library(page, live_url, client):
    _open(page, live_url)
    page.wait_for_selector("[data-testid=maps][data-photo=cat] [data-testid=map-5]")
    answer = client.get("/api/steps/maps?photo=cat").json()
    image = torch.tensor(answer["input"], dtype=torch.float64).permute(2, 0, 1)[None]
    maps = F.conv2d(image, torch.tensor(SIX_FILTERS))[0].numpy()
    assert maps.shape == (6, 28, 28)
    np.testing.assert_allclose(answer["maps"], maps, atol=1e-9)
    assert _pixel(page, "maps-input", 7, 9)[:3] == answer["input"][7][9]
    for k, (row, col) in ((0, (3, 4)), (3, (14, 20)), (5, (27, 0))):
        low, high = maps[k].min(), maps[k].max()
        level = round((maps[k, row, col] - low) * 255 / (high - low))
        assert _pixel(page, f"map-{k}", row, col)[:3] == [level] * 3
    page.get_by_test_id("maps-photo").select_option("astronaut")
    page.wait_for_selector("[data-testid=maps][data-photo=astronaut]")
