"""Experiments whose claim is about training: each runs at --scale tiny, and the numbers of
its report are checked against the run folders (and `cnnlab evaluate` on them)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from experiment_checks import check_report, last_metrics, run_tiny

from cnnlab.cli import main
from cnnlab.evaluation.evaluate import run_predictions
from cnnlab.experiments import get_experiment
from cnnlab.experiments.activation import running_error, steps_to
from cnnlab.experiments.base import Arm, Trained
from cnnlab.experiments.scales import TINY_TRAIN
from cnnlab.runs import load_checkpoint
from cnnlab.training.runlog import read_steps


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


def _oracle_steps_to(log: dict, target: float, window: int) -> float:
    """The first step whose error over the last ``window`` steps is <= target, by NumPy."""
    hits = np.convolve(log["correct"], np.ones(window), "valid")
    seen = np.convolve(log["images"], np.ones(window), "valid")
    reached = np.flatnonzero(1 - hits / seen <= target)
    return float(log["step"][reached[0] + window - 1]) if reached.size else float("inf")


def test_activation(tmp_path):
    out, results, lines = run_tiny("activation", tmp_path / "activation")
    check_report("activation", out, results, lines)
    per_epoch = TINY_TRAIN // 64  # batch 64, the last partial batch dropped
    scale = get_experiment("activation").scales["tiny"].arms
    target, window = scale["target"], scale["window"]
    assert results["numbers"]["target_train_error"] == target
    assert len(results["models"]) == 2 * len(scale["lrs"])
    for model in results["models"]:
        assert model["steps_per_epoch"] == per_epoch
        run = out / model["run_dir"]
        net, _ = load_checkpoint(run)
        kinds = {type(m).__name__ for m in net.modules()}
        tanh = model["arm"].startswith("tanh-")
        assert ("Tanh" in kinds) == tanh and "BatchNorm2d" not in kinds
        assert json.loads((run / "config.json").read_text())["lr"] == \
            float(model["arm"].split("-lr")[1])
        log = {k: np.array(v) for k, v in read_steps(run).items()}
        # one row per step, and per epoch they add up to the trainer's running accuracy
        assert log["step"].tolist() == list(range(1, per_epoch * len(model["epochs"]) + 1))
        for i, row in enumerate(model["epochs"]):
            part = slice(i * per_epoch, (i + 1) * per_epoch)
            assert log["correct"][part].sum() / log["images"][part].sum() == \
                pytest.approx(row["train_acc"], abs=1e-9)
        from_report = results["numbers"]["steps_to_target"][model["arm"]][model["seed"]]
        assert from_report == _oracle_steps_to(log, target, window)


def test_activation_steps_are_counted_every_step_not_per_epoch(tmp_path):
    """A hand-made log: the target is crossed mid-epoch, at a step no epoch end shows."""
    run = tmp_path / "run"
    run.mkdir()
    correct = [10, 20, 40, 50, 60, 60, 64, 64]  # of 64 images per step
    (run / "steps.csv").write_text("step,loss,correct,images\n" + "".join(
        f"{i},1.0,{c},64\n" for i, c in enumerate(correct, 1)))
    trained = Trained(Arm("relu-lr0.1", "ReLU", "smallcnn"), 0, run, [], 0, 0.0, 0.0, 4)
    # window 2: errors after steps 2..8 are 1-30/128, 1-60/128, 1-90/128, 1-110/128, ...
    assert steps_to(trained, 1 - 90 / 128, 2) == 4.0
    assert steps_to(trained, 0.2, 2) == 5.0  # 1 - 110/128 = 0.14; step 5, inside epoch 2
    assert steps_to(trained, 0.0, 2) == 8.0
    assert steps_to(trained, -0.1, 2) == float("inf")
    steps, errors = running_error(trained, 3)
    assert steps == [3, 4, 5, 6, 7, 8]
    assert errors[0] == pytest.approx(1 - 70 / 192)


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
