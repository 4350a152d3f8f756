"""The published tables against cnnlab's numbers: matches where the paper is right, and a
written reason wherever it is not."""

from __future__ import annotations

import pytest

from cnnlab.papers import compare
from cnnlab.papers.chart import ChartPoint, plot_complexity, top1_accuracy
from cnnlab.papers.googlenet_table import googlenet_table
from cnnlab.papers.tables import VGG16_LAYERS


@pytest.fixture(scope="module")
def shares():
    return compare.share_table()


def _verdicts(table):
    return {row[1].split()[1]: row[-1] for row in table.rows if row[1].startswith("cnnlab ")}


def test_share_table_matches_the_lecture_where_it_can(shares):
    verdicts = _verdicts(shares)
    for name in ("alexnet", "vgg_m", "vgg_s", "vgg16", "vgg19"):
        assert verdicts[name] == "matches", name
    # every row that differs has a note that names it
    for label, name in (("VGG-F", "vgg_f"), ("NIN", "nin"), ("GoogLeNet", "googlenet")):
        assert verdicts[name].startswith("DIFFERS")
        assert any(note.startswith(f"{label}:") for note in shares.notes)
    assert shares.missing == []


def test_missing_model_is_said_not_dropped(monkeypatch):
    monkeypatch.setattr(compare, "registered", lambda name: name != "vgg19")
    table = compare.share_table()
    assert table.missing == ["vgg19"]
    assert any("vgg19 is not registered" in row[1] for row in table.rows)
    assert any(note.startswith("VGG-19: not reproduced") for note in table.notes)


def test_vgg16_table_exactly():
    table = compare.vgg16_table()
    layers = table.rows[:len(VGG16_LAYERS)]
    assert all(row[-1] == "matches" for row in layers)
    # CS231n / lecture slide: FC6 7x7x512x4096 = 102,760,448 weights; conv1_1 3.2M values
    fc6 = next(row for row in layers if row[4] == "102,760,448")
    assert fc6[5] == "102,760,448" and fc6[3] == "4,096"
    assert layers[1][3] == "3,211,264" and layers[1][5] == "1,728"
    total = next(row for row in table.rows if row[0] == "TOTAL params")
    assert total[5] == "138,344,128" and total[-1] == "matches"
    assert any("15,237,608" in note and "24M" in note for note in table.notes)


def test_googlenet_table_one():
    table = googlenet_table()
    pairs = list(zip(table.rows[::2], table.rows[1::2], strict=True))
    ours = {paper[0]: mine for paper, mine in reversed(pairs)}  # the first row of each kind
    for kind in ("inception (3a)", "inception (3b)", "inception (4b)", "linear"):
        assert ours[kind][-1] == "matches", kind
    # Table 1, inception (3a): 64 / 96 / 128 / 16 / 32 / 32 filters, 159K params, 128M ops
    assert ours["inception (3a)"][5:11] == ["64", "96", "128", "16", "32", "32"]
    assert ours["inception (3a)"][11] == "159.5K"
    assert ours["convolution"][-1].startswith("DIFFERS")
    assert any("2.7K" in note and "7x7x3x64" in note for note in table.notes)
    assert any(note.startswith("inception (4c)") for note in table.notes)


def test_cifar_resnets_table_six():
    table = compare.cifar_table()
    assert [row[0] for row in table.rows] == ["resnet20", "resnet32", "resnet44", "resnet56",
                                             "resnet110", "resnet1202"]
    assert all(row[-1] == "matches" for row in table.rows)


def test_top1_accuracy_prefers_torchvision_single_crop():
    assert top1_accuracy({"paper_top1_error": 22.85, "torchvision_top1_acc": 76.13}) == (
        76.13, "torchvision_top1_acc")
    assert top1_accuracy({"paper_ilsvrc2010_test_top1_error": 37.5,
                          "paper_ilsvrc2012_val_top1_error": 40.7})[0] == pytest.approx(59.3)
    assert top1_accuracy({"paper_top5_error": 7.0}) is None


def test_chart_is_written_as_png_and_svg(tmp_path):
    points = [ChartPoint("a", 700_000_000, 61_000_000, 57.0, "torchvision_top1_acc"),
              ChartPoint("b", 4_000_000_000, 25_000_000, 76.0, "paper_top1_error")]
    written = plot_complexity(points, tmp_path / "complexity.png")
    assert [p.suffix for p in written] == [".png", ".svg"]
    assert written[0].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert b"<svg" in written[1].read_bytes()[:2000]
