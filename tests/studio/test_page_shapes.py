"""The Shapes page in Chromium: rows equal `cnnlab shape`, the VGG-16 preset the slide."""

from __future__ import annotations

import json
import shlex

from playwright.sync_api import expect

from cnnlab.cli import main
from cnnlab.convolution.shapes import parse_layer, shape_stack


def _open(page, live_url):
    page.goto(f"{live_url}/#/shapes")
    page.wait_for_selector("#page[data-ready=true]")


def test_vgg16_preset_shows_the_slide_and_the_cli_numbers(page, live_url, capsys):
    _open(page, live_url)
    expect(page.get_by_test_id("row-17-output")).to_have_text("7x7x512")
    expect(page.get_by_test_id("shape-totals")).to_contain_text("total parameters 138,357,544")
    verdicts = page.locator("[data-testid=shape-table] td.verdict-ok").all_inner_texts()
    assert verdicts == ["matches"] * 22
    expect(page.get_by_test_id("row-16-rf")).to_have_text("196")  # conv5_3 sees 196x196 pixels
    # The command the page prints gives the same rows in a terminal.
    command = shlex.split(page.get_by_test_id("shape-command").inner_text())
    assert command[:2] == ["cnnlab", "shape"]
    assert main([*command[1:], "--json"]) == 0
    cli = json.loads(capsys.readouterr().out)["layers"]
    shown = page.locator("[data-testid^=row-][data-testid$=-activations]").all_inner_texts()
    assert [int(v.replace(",", "")) for v in shown] == [r["activations"] for r in cli]


def test_editing_adding_moving_and_removing_layers(page, live_url):
    _open(page, live_url)
    page.get_by_test_id("shape-preset").select_option("lecture")
    expect(page.get_by_test_id("row-0-output")).to_have_text("28x28x6")
    expect(page.get_by_test_id("row-0-params")).to_have_text("456")
    page.get_by_test_id("layer-0-filters").fill("10")
    expect(page.get_by_test_id("row-0-params")).to_have_text("760")  # 5*5*3*10 + 10
    page.get_by_test_id("layer-add").click()  # conv:64,3,1,1,1
    page.get_by_test_id("layer-1-kind").select_option("pool")
    page.get_by_test_id("layer-add").click()
    page.get_by_test_id("layer-2-kind").select_option("fc")
    page.get_by_test_id("layer-2-outputs").fill("10")
    specs = ["conv:10,5,1,0,1", "pool:2,2,0", "fc:10"]
    rows = shape_stack((32, 32, 3), [parse_layer(s) for s in specs])
    fc_params = rows[2].weights + rows[2].biases
    expect(page.get_by_test_id("row-2-params")).to_have_text(f"{fc_params:,}")
    expect(page.get_by_test_id("row-1-output")).to_have_text("14x14x10")
    page.get_by_test_id("layer-1-up").click()  # pool before conv: 16x16x3 -> 12x12x10
    expect(page.get_by_test_id("row-1-output")).to_have_text("12x12x10")
    expect(page.get_by_test_id("shape-command")).to_contain_text("pool:2,2,0 conv:10,5,1,0,1 fc:10")
    page.get_by_test_id("layer-0-remove").click()
    expect(page.get_by_test_id("row-0-output")).to_have_text("28x28x10")


def test_a_layer_that_does_not_fit_shows_the_reason(page, live_url):
    _open(page, live_url)
    page.get_by_test_id("shape-preset").select_option("stride")
    expect(page.get_by_test_id("row-0-output")).to_have_text("3x3x1")
    page.get_by_test_id("layer-0-stride").fill("3")
    expect(page.locator("#error-text")).to_contain_text("is not an integer")
    page.get_by_test_id("shape-rounding").select_option("floor")
    expect(page.get_by_test_id("row-0-output")).to_have_text("2x2x1")
