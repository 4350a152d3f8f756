"""Learning-rate schedules, optimizers and parameter groups."""

from __future__ import annotations

import math

import pytest
import torch

from cnnlab.models import get_model
from cnnlab.training.config import TrainConfig
from cnnlab.training.schedule import Plateau, lr_factor, make_optimizer, parameter_groups


def factors(cfg, total, per_epoch, steps, plateau=None):
    f = lr_factor(cfg, total, per_epoch, plateau)
    return [f(s) for s in steps]


def test_multistep_in_iterations_divides_by_ten_at_32k_and_48k():
    cfg = TrainConfig(schedule="multistep", schedule_unit="step", milestones=[32_000, 48_000])
    got = factors(cfg, 64_000, 391, [0, 31_999, 32_000, 47_999, 48_000, 63_999])
    assert got == pytest.approx([1, 1, 0.1, 0.1, 0.01, 0.01])


def test_step_schedule_in_epochs():
    cfg = TrainConfig(schedule="step", step_size=8, gamma=0.96)  # GoogLeNet: -4% every 8 epochs
    assert factors(cfg, 1000, 10, [0, 79, 80, 160]) == pytest.approx([1, 1, 0.96, 0.96**2])


def test_warmup_ramps_linearly_then_follows_the_shape():
    cfg = TrainConfig(schedule="cosine", warmup_steps=10)
    got = factors(cfg, 100, 10, [0, 5, 10, 100])
    assert got[0] == pytest.approx(0.01)
    assert got[1] == pytest.approx((0.01 + 0.99 * 0.5) * 0.5 * (1 + math.cos(math.pi * 0.05)))
    assert got[2] == pytest.approx(0.5 * (1 + math.cos(math.pi * 0.1)))
    assert got[3] == pytest.approx(0.0, abs=1e-12)


def test_onecycle_peaks_at_the_end_of_warmup():
    cfg = TrainConfig(schedule="onecycle", warmup_fraction=0.25)
    got = factors(cfg, 100, 10, range(100))
    assert max(got) == pytest.approx(1.0) and got.index(max(got)) == 24
    assert got[-1] < 0.001


def test_plateau_divides_by_ten_after_patience_epochs_without_progress():
    plateau = Plateau(patience=1, gamma=0.1)
    cfg = TrainConfig(schedule="plateau")
    cut = [plateau.update(e) for e in (0.5, 0.4, 0.45, 0.41, 0.39, 0.39, 0.39)]
    assert cut == [False, False, False, True, False, False, True]
    assert factors(cfg, 10, 1, [3], plateau) == pytest.approx([0.01])
    restored = Plateau(1, 0.1)
    restored.load_state_dict(plateau.state_dict())
    assert restored.state_dict() == plateau.state_dict()


def test_no_weight_decay_on_bn_and_biases():
    model = get_model("smallcnn")
    decay, no_decay = parameter_groups(model, 5e-4, decay_all=False)
    assert all(p.ndim > 1 for p in decay["params"])
    assert all(p.ndim == 1 for p in no_decay["params"]) and no_decay["weight_decay"] == 0.0
    assert len(decay["params"]) + len(no_decay["params"]) == len(list(model.parameters()))
    assert len(parameter_groups(model, 5e-4, decay_all=True)) == 1


def test_optimizers():
    model = get_model("smallcnn")
    sgd = make_optimizer(model, TrainConfig(nesterov=True))
    assert isinstance(sgd, torch.optim.SGD) and sgd.defaults["nesterov"]
    adamw = make_optimizer(model, TrainConfig(optimizer="adamw", lr=1e-3, weight_decay=0.05))
    assert isinstance(adamw, torch.optim.AdamW)
    assert [g["weight_decay"] for g in adamw.param_groups] == [0.05, 0.0]
