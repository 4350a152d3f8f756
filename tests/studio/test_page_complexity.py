"""The Complexity page in Chromium: bubbles, hover and toggles show the papers' numbers."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from cnnlab.papers.paper_table import native_profile
from cnnlab.studio.api.complexity import TABLES, chart_data, table_data


@pytest.fixture(scope="module")
def data():
    # The server runs in this process: computing here first keeps the page's wait short.
    return chart_data(), [table_data(name) for name in TABLES]


def _open(page, live_url, what: str = "[data-testid=chart]"):
    page.goto(f"{live_url}/#/complexity")
    page.wait_for_selector("#page[data-ready=true]")
    page.wait_for_selector(what, timeout=120_000)


def _hover(page, model: str) -> None:
    # At the bubble's centre; a larger bubble drawn over it must not hide it.
    page.get_by_test_id(f"bubble-{model}").hover(force=True)


def _radius(page, model: str) -> float:
    return float(page.get_by_test_id(f"bubble-{model}").get_attribute("r"))


def test_chart_bubbles_hover_and_toggles(page, live_url, data):
    chart, _ = data
    _open(page, live_url)
    with_torchvision = [p for p in chart["points"] if "torchvision" in p["accuracy"]]
    assert page.locator("[data-testid=chart] circle[data-model]").count() == len(with_torchvision)
    resnet50 = native_profile("resnet50")
    _hover(page, "resnet50")
    expect(page.get_by_test_id("tooltip")).to_be_visible()
    expect(page.get_by_test_id("tip-top1")).to_have_text("top-1 76.13%")
    expect(page.get_by_test_id("tip-ops")).to_have_text(f"{resnet50.macs / 1e9:.2f} GMACs")
    expect(page.get_by_test_id("tip-params")).to_have_text(f"{resnet50.params:,} parameters")
    # Bubble area is proportional to parameters.
    vgg16 = native_profile("vgg16")
    ratio = (_radius(page, "vgg16") / _radius(page, "resnet50")) ** 2
    assert ratio == pytest.approx(vgg16.params / resnet50.params, rel=1e-3)
    # Higher accuracy is drawn higher: resnet152 (78.3 %) above resnet18 (69.8 %).
    assert float(page.get_by_test_id("bubble-resnet152").get_attribute("cy")) < float(
        page.get_by_test_id("bubble-resnet18").get_attribute("cy"))

    page.get_by_test_id("unit-flops").check()
    expect(page.get_by_test_id("x-label")).to_contain_text("GFLOPs")
    _hover(page, "resnet50")
    expect(page.get_by_test_id("tip-ops")).to_have_text(f"{2 * resnet50.macs / 1e9:.2f} GFLOPs")

    page.get_by_test_id("source-paper").check()
    expect(page.get_by_test_id("bubble-alexnet")).to_have_count(1)
    expect(page.get_by_test_id("bubble-alexnet_owt")).to_have_count(0)
    expect(page.get_by_test_id("chart-missing")).to_contain_text("alexnet_owt")
    _hover(page, "resnet50")
    expect(page.get_by_test_id("tip-top1")).to_have_text("top-1 77.15%")  # 100 - 22.85


def test_tables_show_the_verdicts_and_notes(page, live_url, data):
    _, tables = data
    _open(page, live_url, "[data-testid=table-cifar]")
    for table in tables:
        section = page.get_by_test_id(f"table-{table['key']}")
        expect(section.locator("h3")).to_have_text(table["title"])
        assert section.locator("tr").count() == len(table["rows"]) + 1
        assert section.locator("ol.notes li").all_inner_texts() == table["notes"]
        at = table["headers"].index("verdict")
        shown = section.locator(f"tr td:nth-child({at + 1})").all_inner_texts()
        assert shown == [row[at] for row in table["rows"]]
