"""Top-1 accuracy per kind of source (the studio's paper / torchvision toggle)."""

from __future__ import annotations

from cnnlab.papers.chart import top1_accuracies


def test_top1_accuracies_split_torchvision_from_paper():
    # resnet50's metadata: torchvision 76.13 % single crop; He et al. 22.85 % top-1 error.
    found = top1_accuracies({"paper_top1_error": 22.85, "torchvision_top1_acc": 76.13,
                             "paper_top5_error": 6.71})
    assert found["torchvision"] == (76.13, "torchvision_top1_acc")
    assert found["paper"][1] == "paper_top1_error"
    assert abs(found["paper"][0] - 77.15) < 1e-9


def test_a_model_with_only_top5_has_no_top1_source():
    assert top1_accuracies({"paper_top5_error": 7.0}) == {}
