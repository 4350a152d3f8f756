"""Every backend computes the same function: same top-1, logits within 1e-4 of eager; auto is
the faster installed runtime, timed on the model (tests/inference/test_autotune.py times fakes)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from cnnlab.errors import CnnlabError
from cnnlab.inference import autotune, backends
from cnnlab.inference.backends import (
    AUTO_CANDIDATES,
    BACKENDS,
    auto_candidates,
    auto_choice,
    check_backend,
    installed_backends,
    load_backend,
    measure_latency,
)
from cnnlab.inference.openvino_runtime import openvino_installed
from cnnlab.models import model_info

NO_OPENVINO = pytest.mark.skipif(
    not openvino_installed(), reason="openvino is not installed (pip install 'cnnlab[openvino]')")


def _marks(name: str) -> list:
    return [pytest.mark.slow] if name == "compile" else [NO_OPENVINO] if name == "openvino" else []


@pytest.fixture(scope="module")
def smallcnn_and_batch(seeded_model):
    x = torch.randn(8, *model_info("smallcnn").input_size,
                    generator=torch.Generator().manual_seed(2))
    model = seeded_model("smallcnn")
    with torch.inference_mode():
        expected = model(x)
    return model, x, expected


@pytest.mark.parametrize("name", [pytest.param(b, marks=_marks(b)) for b in BACKENDS])
def test_backend_matches_eager(name, smallcnn_and_batch, seeded_model):
    model, x, expected = smallcnn_and_batch
    backend = load_backend(name, seeded_model("smallcnn"), model_info("smallcnn").input_size)
    logits = backend(x)
    assert logits.dtype == torch.float32 and logits.shape == expected.shape
    assert torch.equal(logits.argmax(1), expected.argmax(1))
    torch.testing.assert_close(logits, expected, rtol=0, atol=1e-4)
    assert backend.num_classes == model.num_classes


@NO_OPENVINO
@pytest.mark.parametrize("model_name", ["fastnet", "resnet20", "inceptionnet"])
def test_openvino_matches_eager_on_registry_models(model_name, seeded_model):
    size = model_info(model_name).input_size
    x = torch.randn(4, *size, generator=torch.Generator().manual_seed(3))
    model = seeded_model(model_name)
    with torch.inference_mode():
        expected = model(x)
    backend = load_backend("openvino", model, size)
    assert backend.compiled.get_property("INFERENCE_PRECISION_HINT").to_string() == "f32"
    logits = backend(x)
    torch.testing.assert_close(logits, expected, rtol=0, atol=1e-4)
    assert torch.equal(logits.argmax(1), expected.argmax(1))
    again = backend(x[:1])  # another batch size through the same compiled model
    torch.testing.assert_close(again, expected[:1], rtol=0, atol=1e-4)


@pytest.fixture
def own_cache(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return tmp_path / "cache" / "cnnlab" / "autotune.json"


def test_auto_times_the_installed_runtimes_once_and_remembers(own_cache, monkeypatch,
                                                              seeded_model):
    model, size = seeded_model("smallcnn"), model_info("smallcnn").input_size
    first = auto_choice(model, size, batch=2)
    assert not first.cached and first.name in auto_candidates()
    if len(auto_candidates()) > 1:
        assert set(first.ms_per_call) == set(auto_candidates())
        assert first.ms_per_call[first.name] == min(first.ms_per_call.values())
        assert own_cache.is_file()
        monkeypatch.setattr(autotune, "time_in_turns", lambda *a: pytest.fail("timed again"))
        again = auto_choice(model, size, batch=2)
        assert again.cached and again.name == first.name
    runner = load_backend("auto", model, size, batch=2)
    assert runner.backend == first.name
    x = torch.randn(2, *size, generator=torch.Generator().manual_seed(4))
    with torch.inference_mode():
        torch.testing.assert_close(runner(x), model(x), rtol=0, atol=1e-4)


def test_auto_without_openvino_is_onnxruntime_untimed(own_cache, monkeypatch, seeded_model):
    monkeypatch.setattr(backends, "openvino_installed", lambda: False)
    monkeypatch.setattr(autotune, "time_in_turns", lambda *a: pytest.fail("timed one runtime"))
    assert "openvino" not in installed_backends() and auto_candidates() == ("onnxruntime",)
    choice = auto_choice(seeded_model("smallcnn"), model_info("smallcnn").input_size)
    assert choice.name == "onnxruntime" and not choice.ms_per_call
    with pytest.raises(CnnlabError, match=r"backend 'openvino' is not installed: pip install"):
        check_backend("openvino")


def test_auto_candidates_are_the_ones_the_docs_state():
    assert set(AUTO_CANDIDATES) <= set(BACKENDS)
    docs = (Path(__file__).resolve().parents[2] / "docs" / "fast.md").read_text()
    assert f"`auto` times {', '.join(f'`{b}`' for b in AUTO_CANDIDATES)}" in docs
    assert "~/.cache/cnnlab/autotune.json" in docs


def test_unknown_backend(seeded_model):
    with pytest.raises(CnnlabError, match="unknown backend 'tensorrt': choose from auto, eager"):
        load_backend("tensorrt", seeded_model("smallcnn"), (1, 28, 28))


def test_measure_latency_counts_calls():
    calls = []
    times = measure_latency(lambda x: calls.append(x), torch.zeros(1), warmup=2, repeats=3)
    assert len(calls) == 5 and len(times) == 3 and all(t >= 0 for t in times)
