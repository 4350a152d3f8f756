"""autotune.fastest: the faster of two runners wins, the choice is remembered by key, a corrupt
cache is measured again. The runners are fakes whose cost is a sleep, so the order is known."""

from __future__ import annotations

import json
import time

import pytest
import torch

from cnnlab.inference import autotune


@pytest.fixture(autouse=True)
def own_cache(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    return tmp_path / "cnnlab" / "autotune.json"


def _sleeper(seconds: float, calls: list | None = None):
    def run(x: torch.Tensor) -> torch.Tensor:
        if calls is not None:
            calls.append(len(x))
        time.sleep(seconds)
        return x
    return run


def _builders(slow: str, built: list | None = None) -> dict:
    def build(name: str):
        if built is not None:
            built.append(name)
        return _sleeper(0.004 if name == slow else 0.0)
    return {name: (lambda name=name: build(name)) for name in ("a", "b")}


@pytest.mark.parametrize("slow", ["a", "b"])
def test_the_faster_runner_wins_and_is_returned_built(slow):
    choice = autotune.fastest(_builders(slow), torch.zeros(3, 1, 2, 2), key="k")
    fast = "b" if slow == "a" else "a"
    assert choice.name == fast and not choice.cached and callable(choice.runner)
    assert choice.ms_per_call[slow] >= 4.0 > choice.ms_per_call[fast]


def test_the_choice_is_remembered_by_key(own_cache):
    autotune.fastest(_builders("a"), torch.zeros(1), key="model|batch=1")
    assert json.loads(own_cache.read_text())["model|batch=1"]["name"] == "b"
    built = []
    again = autotune.fastest(_builders("b", built), torch.zeros(1), key="model|batch=1")
    assert again.name == "b" and again.cached and again.runner is None and built == []
    other = autotune.fastest(_builders("b", built), torch.zeros(1), key="model|batch=16")
    assert other.name == "a" and sorted(built) == ["a", "b"]
    fresh = autotune.fastest(_builders("b"), torch.zeros(1), key="model|batch=1",
                             use_cache=False)
    assert fresh.name == "a" and not fresh.cached
    assert json.loads(own_cache.read_text())["model|batch=1"]["name"] == "a"


@pytest.mark.parametrize("content", ["{not json", "[1, 2]", '{"k": {"name": "gone"}}'])
def test_an_unusable_cache_is_measured_again(own_cache, content):
    own_cache.parent.mkdir(parents=True)
    own_cache.write_text(content)
    choice = autotune.fastest(_builders("a"), torch.zeros(1), key="k")
    assert choice.name == "b" and not choice.cached
    assert json.loads(own_cache.read_text())["k"]["name"] == "b"


def test_every_runner_is_timed_in_rounds_of_about_the_same_length():
    calls = {"a": [], "b": []}
    runners = {"a": _sleeper(0.002, calls["a"]), "b": _sleeper(0.02, calls["b"])}
    ms = autotune.time_candidates(runners, torch.zeros(2, 1), rounds=3)
    assert ms["a"] >= 2.0 and ms["b"] >= 20.0
    # warm-up, then 3 rounds of about ROUND_SECONDS: one call of b per round at least, several
    # times as many of a
    assert autotune.WARMUP + 3 <= len(calls["b"]) < len(calls["a"])
    assert set(calls["a"] + calls["b"]) == {2}  # the batch given


def test_a_single_candidate_is_not_timed(own_cache):
    choice = autotune.fastest({"only": lambda: _sleeper(0.0)}, torch.zeros(1), key="k")
    assert choice.name == "only" and callable(choice.runner) and not own_cache.exists()
