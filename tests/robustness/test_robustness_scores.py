"""CE and relative CE as Hendrycks & Dietterich (ICLR 2019, section 3) define them, the
intraclass report, and the severity / challenge options."""

from __future__ import annotations

import pytest
import torch

from cnnlab.errors import CnnlabError
from cnnlab.robustness.intraclass import intraclass_report
from cnnlab.robustness.scores import (
    challenge_means,
    corruption_errors,
    mean_corruption_error,
    mean_of,
    relative_corruption_errors,
)
from cnnlab.robustness.settings import parse_challenges, parse_severities

MODEL = {"noise": {1: 0.3, 2: 0.5}, "rotation": {1: 0.2, 2: 0.4}}
REFERENCE = {"noise": {1: 0.4, 2: 0.8}, "rotation": {1: 0.3, 2: 0.3}}


def test_ce_and_relative_ce_by_the_papers_formulas():
    ce = corruption_errors(MODEL, REFERENCE)
    assert ce["noise"] == pytest.approx((0.3 + 0.5) / (0.4 + 0.8))
    assert ce["rotation"] == pytest.approx((0.2 + 0.4) / (0.3 + 0.3))
    assert mean_of(ce) == pytest.approx((0.8 / 1.2 + 1.0) / 2)
    rel = relative_corruption_errors(MODEL, 0.1, REFERENCE, 0.2)
    assert rel["noise"] == pytest.approx((0.2 + 0.4) / (0.2 + 0.6))
    assert rel["rotation"] == pytest.approx((0.1 + 0.3) / (0.1 + 0.1))
    # a reference that lost nothing to a corruption leaves its relative CE undefined
    flat = {"noise": {1: 0.2, 2: 0.2}, "rotation": {1: 0.3, 2: 0.3}}
    assert relative_corruption_errors(MODEL, 0.1, flat, 0.2)["noise"] is None
    assert mean_of({"a": None}) is None


def test_unnormalized_means():
    assert mean_corruption_error(MODEL) == pytest.approx((0.4 + 0.3) / 2)
    means = challenge_means(MODEL, {"noise": "clutter", "rotation": "viewpoint"})
    assert means == pytest.approx({"clutter": 0.4, "viewpoint": 0.3})


def test_intraclass_finds_the_most_confused_pair_with_examples():
    classes = ["T-shirt", "Trouser", "Shirt"]
    labels = torch.tensor([0, 0, 0, 0, 1, 1, 2, 2, 2, 2])
    predicted = torch.tensor([0, 2, 2, 0, 1, 1, 0, 2, 2, 1])
    log_probs = torch.nn.functional.one_hot(predicted, 3).float().log()
    report = intraclass_report(log_probs, labels, classes, pairs=2, examples=4)
    assert report.per_class == pytest.approx([0.5, 1.0, 0.5])
    assert report.spread == pytest.approx(0.5)
    top = report.pairs[0]
    assert (top.a, top.b, top.a_as_b, top.b_as_a) == ("T-shirt", "Shirt", 2, 1)
    assert top.examples_a_as_b == [1, 2] and top.examples_b_as_a == [6]
    assert (report.pairs[1].a, report.pairs[1].b) == ("Trouser", "Shirt")
    assert len(report.pairs) == 2


@pytest.mark.parametrize("text,expected", [("1-5", [1, 2, 3, 4, 5]), ("0-2", [1, 2]),
                                           ("5,1,3", [1, 3, 5]), ("4", [4])])
def test_severities(text, expected):
    assert parse_severities(text) == expected


@pytest.mark.parametrize("text", ["0-6", "6", "-1", "3-1", "0", "a-b", "1;2"])
def test_bad_severities(text):
    with pytest.raises(CnnlabError):
        parse_severities(text)


def test_challenges_option():
    assert parse_challenges(None)[:2] == ["rotation", "shear"]
    assert parse_challenges(["occlusion", "noise,rotation"]) == ["rotation", "erase",
                                                                 "stripes", "noise"]
    with pytest.raises(CnnlabError, match="unknown challenge or corruption"):
        parse_challenges(["fog"])
    with pytest.raises(CnnlabError, match="part of every measurement"):
        parse_challenges(["intraclass"])
