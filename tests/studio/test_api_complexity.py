"""/api/complexity/*: the chart's points and the lecture's tables are the papers package's."""

from __future__ import annotations

import pytest

from cnnlab.papers import compare
from cnnlab.papers.chart import chart_points
from cnnlab.papers.googlenet_table import googlenet_table


def test_chart_points_are_the_papers_chart_with_both_accuracy_sources(client):
    answer = client.get("/api/complexity/chart")
    assert answer.status_code == 200
    data = answer.json()
    points, skipped = chart_points()
    assert [(p["model"], p["macs"], p["params"]) for p in data["points"]] == [
        (p.model, p.macs, p.params) for p in points]
    assert data["skipped"] == skipped
    assert all(p["flops"] == 2 * p["macs"] for p in data["points"])
    by_name = {p["model"]: p for p in data["points"]}
    # resnet50: torchvision's IMAGENET1K_V1 76.13 %; He et al. Table 3: 22.85 % top-1 error.
    assert by_name["resnet50"]["accuracy"]["torchvision"] == {"top1": 76.13,
                                                              "key": "torchvision_top1_acc"}
    assert by_name["resnet50"]["accuracy"]["paper"]["top1"] == pytest.approx(77.15)
    # AlexNet has only the paper's number, AlexNet-OWT only torchvision's.
    assert set(by_name["alexnet"]["accuracy"]) == {"paper"}
    assert set(by_name["alexnet_owt"]["accuracy"]) == {"torchvision"}


def test_tables_equal_cnnlab_tables_json(client):
    answer = client.get("/api/complexity/tables")
    assert answer.status_code == 200
    expected = [compare.share_table().to_dict(), compare.vgg16_table().to_dict(),
                googlenet_table().to_dict(), compare.cifar_table().to_dict()]
    assert answer.json() == expected
    shares = answer.json()[0]
    assert shares["rows"][0][:3] == ["AlexNet", "paper", "61"]
    assert shares["notes"]


def test_one_table_and_an_unknown_one(client):
    one = client.get("/api/complexity/tables?table=vgg16").json()
    assert [t["key"] for t in one] == ["vgg16"]
    bad = client.get("/api/complexity/tables?table=lenet")
    assert bad.status_code == 400 and "unknown table 'lenet'" in bad.json()["error"]
