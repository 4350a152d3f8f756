"""Experiments whose claim is about training: each runs at --scale tiny, and the numbers of
its report are checked against the run folders (and `cnnlab evaluate` on them)."""

from __future__ import annotations

import json

import pytest
import torch
from experiment_checks import check_report, last_metrics, run_tiny

from cnnlab.cli import main
from cnnlab.evaluation.evaluate import run_predictions
from cnnlab.experiments.scales import TINY_TRAIN
from cnnlab.runs import load_checkpoint


def test_degradation(tmp_path):
    out, results, lines = run_tiny("degradation", tmp_path / "degradation")
    check_report("degradation", out, results, lines)
    assert {m["model"] for m in results["models"]} == {"plain20", "plain56", "resnet20",
                                                        "resnet56"}
    for model in results["models"]:
        net, _ = load_checkpoint(out / model["run_dir"])
        assert net.layer1[0].shortcut == model["model"].startswith("resnet")
        assert len(net.layer1) == {"20": 3, "56": 9}[model["model"][-2:]]
    for key in ("plain20", "plain56", "resnet20", "resnet56"):
        saved = results["numbers"][key]["train_error"]["values"]
        assert saved == [m["train_error"] for m in results["models"] if m["arm"] == key]


def test_activation(tmp_path):
    out, results, lines = run_tiny("activation", tmp_path / "activation")
    check_report("activation", out, results, lines)
    per_epoch = TINY_TRAIN // 64  # batch 64, the last partial batch dropped
    target = results["numbers"]["target_train_error"]
    for model in results["models"]:
        assert model["steps_per_epoch"] == per_epoch
        net, _ = load_checkpoint(out / model["run_dir"])
        kinds = {type(m).__name__ for m in net.modules()}
        assert ("Tanh" in kinds) == (model["arm"] == "tanh") and "BatchNorm2d" not in kinds
        errors = [1 - r["train_acc"] for r in model["epochs"]]
        first = next((i + 1 for i, e in enumerate(errors) if e <= target), None)
        expected = first * per_epoch if first else float("inf")
        from_report = results["numbers"]["steps_to_target"][model["arm"]][model["seed"]]
        assert from_report == expected


def test_ensemble_member_errors_are_cnnlab_evaluates(tmp_path, capsys):
    out, results, lines = run_tiny("ensemble", tmp_path / "ensemble")
    check_report("ensemble", out, results, lines)
    members = results["numbers"]["members"]
    assert len(members) == 2
    probs = []
    for model in results["models"]:
        run = out / model["run_dir"]
        capsys.readouterr()
        assert main(["evaluate", str(run), "--json", "--out", str(tmp_path / run.name)]) == 0
        evaluated = json.loads(capsys.readouterr().out)
        assert members[run.name] == evaluated["top1_error"]
        assert json.loads((run / "config.json").read_text())["holdout"] == 64
        preds, _ = run_predictions(run)
        probs.append(preds.log_probs.double().exp())
    average = torch.stack(probs).mean(0)
    by_hand = (average.argmax(1) != preds.labels).double().mean().item()
    assert results["numbers"]["uniform_error"] == pytest.approx(by_hand, abs=1e-6)  # float32 top-1
    assert sum(results["numbers"]["tuned_weights"]) == pytest.approx(1.0)
    assert "held-out training images" in results["numbers"]["tuned_on"]


def test_lrn(tmp_path):
    out, results, lines = run_tiny("lrn", tmp_path / "lrn")
    check_report("lrn", out, results, lines)
    for model in results["models"]:
        net, _ = load_checkpoint(out / model["run_dir"])
        kinds = [type(m).__name__ for m in net.modules()]
        assert kinds.count("LocalResponseNorm") == (2 if model["arm"] == "lrn" else 0)


def test_regularization(tmp_path):
    out, results, lines = run_tiny("regularization", tmp_path / "regularization")
    check_report("regularization", out, results, lines)
    for model in results["models"]:
        config = json.loads((out / model["run_dir"] / "config.json").read_text())
        augmented = model["arm"] in ("augment", "both")
        assert config["hflip"] == augmented and config["translate"] == (2 if augmented else 0)
        assert config["model_options"]["dropout"] == (0.5 if model["arm"] in ("dropout", "both")
                                                      else 0.0)
        gap = results["numbers"][model["arm"]]["gap"]["values"][0]
        metrics = last_metrics(out / model["run_dir"])
        assert gap == pytest.approx(float(metrics["train_acc"]) - float(metrics["test_acc"]),
                                   abs=1e-6)
