"""airbench's lookahead (cnnlab.training.lookahead) against the update written out by hand."""

from __future__ import annotations

import json

import pytest
import torch
from torch import nn

from cnnlab.errors import CnnlabError
from cnnlab.training import TrainConfig, fast, train
from cnnlab.training.lookahead import Lookahead, make_lookahead
from cnnlab.training.recipes import recipe_config


def test_weights_follow_the_hand_written_average():
    model = nn.Sequential(nn.Linear(2, 1), nn.BatchNorm1d(1))
    look = Lookahead(model, total_steps=7, every=3)
    start = model[0].weight.detach().clone()
    average = start.clone()
    expected_decays = {3: 0.95 ** 3 * (3 / 7) ** 3, 6: 0.95 ** 3 * (6 / 7) ** 3, 7: 1.0}
    for step in range(1, 8):
        with torch.no_grad():
            model[0].weight.add_(float(step))  # stands for an optimizer step
        weights = model[0].weight.detach().clone()
        look.step()
        if step in expected_decays:
            decay = expected_decays[step]
            assert look.decay(step) == pytest.approx(decay)
            average = decay * average + (1 - decay) * weights
            weights = average
        torch.testing.assert_close(model[0].weight.detach(), weights)
    # the last step copies the average in: the weights end where the average is
    torch.testing.assert_close(model[0].weight.detach(), look.average[0])
    assert len(look.tensors) == 6  # weight, bias, BN weight, bias, running mean and var


def test_state_round_trips_and_zero_is_off():
    model = nn.Linear(3, 2)
    assert make_lookahead(model, 0, 10) is None
    look = make_lookahead(model, 2, 10)
    for _ in range(3):
        with torch.no_grad():
            model.weight.mul_(1.5)
        look.step()
    state = look.state_dict()
    other = Lookahead(model, 10, 2)
    other.load_state_dict(state)
    assert other.step_count == 3
    assert all(torch.equal(a, b) for a, b in zip(other.average, look.average, strict=True))
    with pytest.raises(ValueError, match="every >= 1"):
        Lookahead(model, 10, 0)


def test_config_refuses_a_negative_period():
    with pytest.raises(CnnlabError, match="lookahead_every must be >= 0"):
        TrainConfig(lookahead_every=-1).validate()


def test_lookahead_changes_a_run_and_the_recipe_honours_it(fake_fashion, tmp_path):
    """Lookahead changes the run (against the same run without it), and the recipe's config
    and the trainer given the same values run alike."""
    settings = {"data_dir": str(fake_fashion), "epochs": 2, "batch_size": 32, "device": "cpu",
                "quiet": True, "train_subset": 128, "test_subset": 64}
    plain = fast.train_fast(recipe_config("fast").replace(
        {**settings, "lookahead_every": 0, "out": str(tmp_path / "a")}))
    looked = fast.train_fast(recipe_config("fast").replace(
        {**settings, "lookahead_every": 2, "out": str(tmp_path / "b")}))
    assert [r["train_loss"] for r in plain.rows][:1] != [r["train_loss"] for r in looked.rows][:1]
    assert looked.rows[-1]["test_acc"] > 0.3  # 10 classes: chance is 0.1
    amp = json.loads((tmp_path / "b" / "config.json").read_text())["amp"]  # bf16 on AMX CPUs
    same = train(TrainConfig(**{**fast.FAST_RECIPE, **settings, "amp": amp, "translate": 0,
                                "eval_mode": "flip", "lookahead_every": 2,
                                "out": str(tmp_path / "c")}))
    assert [r["test_acc"] for r in same.rows] == [r["test_acc"] for r in looked.rows]
