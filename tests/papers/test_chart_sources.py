"""Top-1 accuracy per kind of source (the studio's paper / torchvision toggle)."""

from __future__ import annotations

from cnnlab.models import model_info
from cnnlab.papers.chart import chart_points, top1_accuracies, top1_accuracy
from cnnlab.papers.paper_table import native_profile


def test_top1_accuracies_split_torchvision_from_paper():
    # resnet50's metadata: torchvision 76.13 % single crop; He et al. 22.85 % top-1 error.
    found = top1_accuracies({"paper_top1_error": 22.85, "torchvision_top1_acc": 76.13,
                             "paper_top5_error": 6.71})
    assert found["torchvision"] == (76.13, "torchvision_top1_acc")
    assert found["paper"][1] == "paper_top1_error"
    assert abs(found["paper"][0] - 77.15) < 1e-9


def test_a_model_with_only_top5_has_no_top1_source():
    assert top1_accuracies({"paper_top5_error": 7.0}) == {}


def test_chart_points_of_named_models_only():
    # alexnet's paper gives a top-1 error; smallcnn is a Fashion-MNIST net with none
    points, skipped = chart_points(["alexnet", "smallcnn"])
    assert [p.model for p in points] == ["alexnet"] and skipped == ["smallcnn"]
    profile = native_profile("alexnet")
    assert (points[0].macs, points[0].params) == (profile.macs, profile.params)
    assert points[0].top1 == top1_accuracy(model_info("alexnet").reported)[0]
