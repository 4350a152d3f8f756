"""autotune: the faster candidate wins, candidates are timed in turns (A B B A), the choice is
remembered by key, an unusable cache is measured again; time_runtime times a real runtime in a
child process. The timers in most tests are fakes returning fixed seconds, so the winner is
known."""

from __future__ import annotations

import json

import pytest

from cnnlab.errors import CnnlabError
from cnnlab.inference import autotune
from cnnlab.inference.export import cached_onnx
from cnnlab.inference.openvino_runtime import openvino_installed
from cnnlab.inference.time_runtime import RUNTIMES, child_timer
from cnnlab.models import model_info


@pytest.fixture(autouse=True)
def own_cache(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    return tmp_path / "cnnlab" / "autotune.json"


def _timers(slow: str, calls: list | None = None) -> dict:
    def timer(name: str):
        def run() -> list[float]:
            if calls is not None:
                calls.append(name)
            return [0.02, 0.021, 0.019] if name == slow else [0.01, 0.012, 0.011]
        return run
    return {name: timer(name) for name in ("a", "b")}


@pytest.mark.parametrize("slow", ["a", "b"])
def test_the_faster_candidate_wins_timed_in_turns(slow):
    calls = []
    choice = autotune.fastest(_timers(slow, calls), key="k")
    assert choice.name == ("b" if slow == "a" else "a") and not choice.cached
    assert choice.ms_per_call == {slow: 20.0, choice.name: 11.0}  # medians of both passes
    assert calls == ["a", "b", "b", "a"]


def test_the_choice_is_remembered_by_key(own_cache):
    autotune.fastest(_timers("a"), key="model|batch=1")
    assert json.loads(own_cache.read_text())["model|batch=1"]["name"] == "b"
    calls = []
    again = autotune.fastest(_timers("b", calls), key="model|batch=1")
    assert again.name == "b" and again.cached and calls == []
    other = autotune.fastest(_timers("b", calls), key="model|batch=16")
    assert other.name == "a" and len(calls) == 4
    fresh = autotune.fastest(_timers("b"), key="model|batch=1", use_cache=False)
    assert fresh.name == "a" and not fresh.cached
    assert json.loads(own_cache.read_text())["model|batch=1"]["name"] == "a"


@pytest.mark.parametrize("content", ["{not json", "[1, 2]", '{"k": {"name": "gone"}}'])
def test_an_unusable_cache_is_measured_again(own_cache, content):
    own_cache.parent.mkdir(parents=True)
    own_cache.write_text(content)
    choice = autotune.fastest(_timers("a"), key="k")
    assert choice.name == "b" and not choice.cached
    assert json.loads(own_cache.read_text())["k"]["name"] == "b"


def test_a_single_candidate_is_not_timed(own_cache):
    choice = autotune.fastest({"only": lambda: pytest.fail("timed")}, key="k")
    assert choice.name == "only" and not own_cache.exists()


@pytest.mark.parametrize("runtime", [pytest.param(r, marks=pytest.mark.skipif(
    r == "openvino" and not openvino_installed(), reason="openvino is not installed"))
    for r in RUNTIMES])
def test_a_child_process_times_the_runtime(runtime, seeded_model):
    size = model_info("smallcnn").input_size
    path = cached_onnx(seeded_model("smallcnn"), size)
    seconds = child_timer(runtime, path, [4, *size], threads=1, rounds=2)()
    assert len(seconds) == 2 and all(0 < s < 1 for s in seconds)


def test_a_failing_child_is_one_line(tmp_path):
    broken = tmp_path / "broken.onnx"
    broken.write_bytes(b"not an onnx file")
    with pytest.raises(CnnlabError, match=r"^timing onnxruntime on .*broken.onnx failed: ") as e:
        child_timer("onnxruntime", broken, [1, 1, 28, 28], threads=1)()
    assert "\n" not in str(e.value)
