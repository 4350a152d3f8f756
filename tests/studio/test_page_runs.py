"""The Runs page in Chromium: curves drawn from metrics.csv, a confusion cell that opens its
images, a run still training whose new epoch appears without a reload, and overlaid runs."""

from __future__ import annotations

import csv
import shutil
import threading
import time

import pytest
from playwright.sync_api import expect

from cnnlab.training.runlog import RunLog

ACCURACY = "[data-testid=chart-accuracy]"


def _column(folder, key: str) -> list[float]:
    with (folder / "metrics.csv").open() as handle:
        return [float(row[key]) for row in csv.DictReader(handle)]


def _open(page, url: str, ids: str) -> None:
    page.goto(f"{url}/#/runs/{ids}")
    page.wait_for_selector("#page[data-ready=true]")


def _points(page, chart: str, run_id: str, series: str):
    return page.locator(f"[data-testid=chart-{chart}] circle[data-run='{run_id}']"
                        f"[data-series={series}]")


def _values(points, attribute: str = "data-value") -> list[float]:
    return [float(points.nth(k).get_attribute(attribute)) for k in range(points.count())]


def test_curves_show_the_runs_metrics(page, runs_live_url, tiny_run):
    runs_dir, run_id = tiny_run
    _open(page, runs_live_url, run_id)
    expect(page.get_by_test_id("run-title")).to_have_text(run_id)
    for chart, series in (("accuracy", "test_acc"), ("accuracy", "train_acc"),
                          ("loss", "test_loss"), ("loss", "train_loss")):
        points = _points(page, chart, run_id, series)
        expect(points).to_have_count(2)
        values = _values(points)
        assert values == pytest.approx(_column(runs_dir / run_id, series))
        # drawn where the values are: the larger value is higher on the chart (smaller y)
        heights = _values(points, "cy")
        assert (values[0] < values[1]) == (heights[0] > heights[1])
    expect(page.get_by_test_id(f"epochs-{run_id}")).to_have_text("2 / 2")
    expect(page.get_by_test_id("config").locator("[data-key=train_subset]")).to_have_text("1000")


def test_a_confusion_cell_opens_the_images_mistaken_for_each_other(page, runs_live_url,
                                                                   tiny_run):
    _, run_id = tiny_run
    _open(page, runs_live_url, run_id)
    report = page.request.get(f"{runs_live_url}/api/runs/{run_id}/scores").json()
    matrix = report["confusion"]
    expect(page.get_by_test_id("confusion")).to_be_visible(timeout=60_000)
    shown = [[int(page.get_by_test_id(f"cell-{i}-{j}").inner_text()) for j in range(10)]
             for i in range(10)]
    assert shown == matrix
    count, i, j = max((matrix[i][j], i, j) for i in range(10) for j in range(10) if i != j)
    assert count > 0
    page.get_by_test_id(f"cell-{i}-{j}").click()
    figures = page.get_by_test_id("images").locator("figure")
    expect(figures).to_have_count(min(count, 24))
    classes = report["classes"]
    expect(page.get_by_test_id("images-count")).to_contain_text(
        f"{count} test image{'s' if count > 1 else ''}: true class {classes[i]}, "
        f"predicted as {classes[j]}")
    assert {figures.nth(k).get_attribute("data-label") for k in range(figures.count())} == {str(i)}
    assert {figures.nth(k).get_attribute("data-predicted")
            for k in range(figures.count())} == {str(j)}
    # drawn at a readable size, not as 28-pixel thumbnails
    assert figures.first.locator("img").evaluate("img => img.naturalWidth") == 112
    percent = f"{report['per_class_accuracy'][i] * 100:.1f}%"
    expect(page.get_by_test_id(f"accuracy-{i}")).to_have_text(percent)


def test_a_new_epoch_appears_without_reloading(page, runs_live_url, tiny_run, train_run,
                                               monkeypatch):
    runs_dir, _ = tiny_run
    folder = runs_dir / "live-run"
    gate, failures = threading.Event(), []
    original = RunLog.epoch

    def held(self, rows):  # the run waits after its first epoch until the page has shown it
        original(self, rows)
        if self.out == folder and len(rows) == 1:
            gate.wait(60)

    monkeypatch.setattr(RunLog, "epoch", held)

    def work():
        try:
            train_run(folder, epochs=3, train_subset=300)
        except Exception as err:  # noqa: BLE001 - reported by the test below
            failures.append(err)

    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 60
        while not (folder / "metrics.csv").exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        _open(page, runs_live_url, "live-run")
        points = _points(page, "accuracy", "live-run", "test_acc")
        expect(points).to_have_count(1)
        expect(page.get_by_test_id("legend-live-run")).to_contain_text("training, epoch 1 of 3")
        expect(page.get_by_test_id("scores-error")).to_contain_text("no checkpoint yet")
        page.evaluate("window.sameDocument = true")
    finally:
        gate.set()
    thread.join(60)
    assert not failures and not thread.is_alive()
    expect(points).to_have_count(3, timeout=20_000)
    expect(page.get_by_test_id("legend-live-run")).to_contain_text("live-run (3 epochs)")
    assert page.evaluate("window.sameDocument") is True  # polled, not reloaded
    assert _values(points) == pytest.approx(_column(folder, "test_acc"))
    # there was no checkpoint when the page opened; its scores came once one was saved
    expect(page.get_by_test_id("scores-summary")).to_contain_text("on 200 test images")


def test_two_runs_overlaid_on_one_chart(page, runs_live_url, tiny_run, second_run):
    runs_dir, run_id = tiny_run
    _open(page, runs_live_url, run_id)
    page.get_by_test_id(f"overlay-{second_run}").check()
    page.wait_for_url(f"**/#/runs/{run_id},{second_run}")
    page.wait_for_selector("#page[data-ready=true]")
    for run, epochs in ((run_id, 2), (second_run, 3)):
        points = _points(page, "accuracy", run, "test_acc")
        expect(points).to_have_count(epochs)
        assert _values(points) == pytest.approx(_column(runs_dir / run, "test_acc"))
        expect(page.get_by_test_id(f"legend-{run}")).to_be_visible()
    colours = {page.locator(f"{ACCURACY} circle[data-run='{run}']").first.get_attribute("fill")
               for run in (run_id, second_run)}
    assert len(colours) == 2
    # the same epoch lies at the same x for both runs
    assert (_points(page, "accuracy", run_id, "test_acc").nth(1).get_attribute("cx")
            == _points(page, "accuracy", second_run, "test_acc").nth(1).get_attribute("cx"))


def test_a_broken_run_shows_its_error_on_the_page(page, runs_live_url, tiny_run):
    runs_dir, run_id = tiny_run
    broken = runs_dir / "broken-weights"
    shutil.copytree(runs_dir / run_id, broken, ignore=shutil.ignore_patterns("state"))
    (broken / "checkpoint.safetensors").write_bytes(b"\0" * 64)
    _open(page, runs_live_url, "broken-weights")
    expect(page.get_by_test_id("scores-error")).to_contain_text("cannot read weights")
    expect(page.locator("#error-text")).to_contain_text("broken-weights/checkpoint.safetensors")
    # the curves still come from the files, and the server keeps serving
    expect(_points(page, "accuracy", "broken-weights", "test_acc")).to_have_count(2)
    assert page.request.get(f"{runs_live_url}/api/runs").ok


def test_the_run_view_works_under_the_content_security_policy(strict_page, runs_live_url,
                                                              tiny_run):
    _, run_id = tiny_run
    strict = strict_page
    _open(strict, runs_live_url, run_id)
    expect(strict.get_by_test_id("confusion")).to_be_visible(timeout=60_000)
    # shading and swatches are set through the CSS object model, which the policy allows
    expect(strict.get_by_test_id("cell-1-1")).not_to_have_css("background-color",
                                                              "rgb(250, 250, 250)")
    expect(strict.get_by_test_id(f"legend-{run_id}").locator(".swatch")).to_have_css(
        "background-color", "rgb(43, 108, 176)")
