"""Experiments whose claim is a count: the profiler-derived numbers of the report equal the
formulas (25C^2 vs 18C^2, 49C^2 vs 27C^2, the inception module on 28x28x256) and torch's own
parameter counts of the trained models."""

from __future__ import annotations

import pytest
from experiment_checks import check_report, run_tiny

from cnnlab.runs import load_checkpoint


def test_small_filters_counts_are_the_formulas(tmp_path):
    out, results, lines = run_tiny("small-filters", tmp_path / "small-filters")
    check_report("small-filters", out, results, lines)
    numbers = results["numbers"]
    c = numbers["width"]
    weights = {k: v["weights"] for k, v in numbers["counts"].items()}
    assert weights == {"5x5": 25 * c * c, "3x3x2": 18 * c * c, "7x7": 49 * c * c,
                       "3x3x3": 27 * c * c}
    fields = {k: v["field"] for k, v in numbers["counts"].items()}
    # the 3x3 stem sees 3 pixels; a 5x5 (two 3x3) adds 4, a 7x7 (three 3x3) adds 6
    assert fields == {"5x5": 7, "3x3x2": 7, "7x7": 9, "3x3x3": 9}
    for model in results["models"]:
        net, _ = load_checkpoint(out / model["run_dir"])
        convs = sum(p.numel() for n, p in net.block1.named_parameters() if "conv" in n)
        assert convs == weights[model["arm"]]
        assert numbers["counts"][model["arm"]]["macs"] == convs * 28 * 28  # padded, stride 1


def test_bottleneck_counts_are_the_lectures_module(tmp_path):
    out, results, lines = run_tiny("bottleneck", tmp_path / "bottleneck")
    check_report("bottleneck", out, results, lines)
    numbers = results["numbers"]
    naive, reduced = numbers["lecture_module"]["naive"], numbers["lecture_module"]["reduced"]
    # 28x28x256 in; naive: 1x1 128, 3x3 192, 5x5 96 (+ the pool's 256 channels)
    assert naive["macs"] == 28 * 28 * 256 * (128 + 9 * 192 + 25 * 96) == 854_196_224
    assert naive["depth"] == 128 + 192 + 96 + 256
    # reduced: 1x1 128; 1x1 64 -> 3x3 192; 1x1 64 -> 5x5 96; pool -> 1x1 64
    assert reduced["macs"] == 28 * 28 * (256 * (128 + 64 + 64 + 64) + 9 * 64 * 192
                                         + 25 * 64 * 96) == 271_351_808
    assert reduced["depth"] == 128 + 192 + 96 + 64
    assert numbers["stacked_depths"] == {"naive": [672, 1088, 1504], "reduced": [480] * 3}
    # GoogLeNet (3a) on 28x28x192, Table 1: 64, 96 -> 128, 16 -> 32, pool -> 32; "128M" ops
    weights = 192 * (64 + 96 + 16 + 32) + 9 * 96 * 128 + 25 * 16 * 32
    assert numbers["googlenet_3a"] == {"params": weights + 64 + 96 + 128 + 16 + 32 + 32,
                                       "macs": 28 * 28 * weights}
    assert round(numbers["googlenet_3a"]["macs"] / 1e6) == 128


def test_squeeze_excite_overhead_is_the_se_modules(tmp_path):
    out, results, lines = run_tiny("squeeze-excite", tmp_path / "squeeze-excite")
    check_report("squeeze-excite", out, results, lines)
    nets = {m["arm"]: load_checkpoint(out / m["run_dir"])[0] for m in results["models"]}
    se_params = sum(p.numel() for n, p in nets["se"].named_parameters() if ".se." in n)
    assert se_params > 0
    plain = sum(p.numel() for p in nets["plain"].parameters())
    profile = results["numbers"]["profile"]
    assert profile["plain"]["params"] == plain
    assert profile["se"]["params"] == plain + se_params
    assert results["numbers"]["extra_params"] == pytest.approx(se_params / plain)
