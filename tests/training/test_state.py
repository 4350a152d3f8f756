"""Resumable state: pickle-free round trips, atomic folders, the last K kept."""

from __future__ import annotations

import json
import random

import numpy as np
import torch

from cnnlab.training.state import (
    flatten,
    list_states,
    load_state,
    match_layouts,
    publish_state,
    rng_states,
    set_rng_states,
    staging_dir,
    unflatten,
)


def test_optimizer_state_round_trips_through_json_and_tensors():
    torch.manual_seed(0)
    model = torch.nn.Linear(3, 2)
    opt = torch.optim.AdamW(model.parameters(), lr=0.01)
    model(torch.randn(4, 3)).sum().backward()
    opt.step()
    tensors: dict[str, torch.Tensor] = {}
    text = json.dumps(flatten(opt.state_dict(), tensors))
    back = unflatten(json.loads(text), tensors)
    twin = torch.optim.AdamW(model.parameters(), lr=0.5)
    twin.load_state_dict(back)
    assert twin.param_groups[0]["lr"] == 0.01
    for key in ("exp_avg", "exp_avg_sq", "step"):
        assert torch.equal(twin.state_dict()["state"][0][key], opt.state_dict()["state"][0][key])


def test_rng_states_restore_every_generator():
    saved = rng_states()
    tensors: dict[str, torch.Tensor] = {}
    saved = unflatten(json.loads(json.dumps(flatten(saved, tensors))), tensors)
    draws = (torch.rand(3), np.random.rand(3), random.random())
    set_rng_states(saved)
    again = (torch.rand(3), np.random.rand(3), random.random())
    assert torch.equal(draws[0], again[0])
    assert np.array_equal(draws[1], again[1]) and draws[2] == again[2]


def test_states_are_published_whole_and_only_the_last_k_kept(tmp_path):
    for step in (3, 6, 9):
        publish_state(tmp_path, step, {"w": torch.full((2,), float(step)), "step": step},
                      [rng_states(), rng_states()], keep=2)
    assert [p.name for p in list_states(tmp_path)] == ["step-000000006", "step-000000009"]
    assert not list((tmp_path / "state").glob(".tmp-*"))
    tree, rng = load_state(list_states(tmp_path)[-1], rank=0)
    assert tree["step"] == 9 and torch.equal(tree["w"], torch.full((2,), 9.0))
    assert "torch" in rng and "torch" in load_state(list_states(tmp_path)[-1], rank=1)[1]
    # A staging folder left by a killed process is not a state, and is replaced when that
    # step is saved again.
    staging_dir(tmp_path, 12).mkdir()
    (staging_dir(tmp_path, 12) / "rng-rank5.json").write_text("{}")
    assert list_states(tmp_path)[-1].name == "step-000000009"
    publish_state(tmp_path, 12, {"step": 12}, [rng_states()], keep=2)
    assert sorted(p.name for p in list_states(tmp_path)[-1].glob("rng-rank*")) == [
        "rng-rank0.json", "rng-rank0.safetensors"]


def test_loaded_optimizer_state_takes_its_parameters_layout():
    """Fused kernels read a momentum buffer in its weight's layout (channels_last here)."""
    conv = torch.nn.Conv2d(3, 4, 3).to(memory_format=torch.channels_last)
    optimizer = torch.optim.SGD(conv.parameters(), lr=0.1, momentum=0.9)
    conv(torch.randn(2, 3, 6, 6)).sum().backward()
    optimizer.step()
    saved = optimizer.state_dict()
    buffer = saved["state"][0]["momentum_buffer"]
    saved["state"][0]["momentum_buffer"] = buffer.contiguous()  # as the state files store it
    optimizer.load_state_dict(saved)
    match_layouts(optimizer)
    restored = optimizer.state[conv.weight]["momentum_buffer"]
    assert restored.stride() == conv.weight.stride() and torch.equal(restored, buffer)
