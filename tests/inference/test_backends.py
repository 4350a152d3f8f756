"""Every backend computes the same function: same top-1, logits within 1e-4 of eager; auto is
the first installed backend of AUTO_ORDER."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from cnnlab.errors import CnnlabError
from cnnlab.inference import backends
from cnnlab.inference.backends import (
    AUTO_ORDER,
    AUTO_ORDER_LARGE,
    BACKENDS,
    LARGE_BATCH,
    auto_backend,
    auto_order,
    installed_backends,
    load_backend,
    measure_latency,
    resolve_backend,
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


def test_auto_is_the_first_installed_of_the_measured_order(monkeypatch):
    assert set(AUTO_ORDER) == set(AUTO_ORDER_LARGE) <= set(BACKENDS)
    assert auto_order(1) == auto_order(LARGE_BATCH - 1) == AUTO_ORDER
    assert auto_order(LARGE_BATCH) == auto_order(256) == AUTO_ORDER_LARGE
    for batch in (1, LARGE_BATCH):
        assert auto_backend(batch) == next(b for b in auto_order(batch)
                                           if b in installed_backends())
        assert resolve_backend("auto", batch) == auto_backend(batch)
    monkeypatch.setattr(backends, "openvino_installed", lambda: True)
    assert auto_backend(1) == AUTO_ORDER[0]
    assert auto_backend(LARGE_BATCH) == AUTO_ORDER_LARGE[0]
    monkeypatch.setattr(backends, "openvino_installed", lambda: False)
    assert "openvino" not in installed_backends()
    assert auto_backend(LARGE_BATCH) == "onnxruntime" == auto_backend(1)
    with pytest.raises(CnnlabError, match=r"backend 'openvino' is not installed: pip install"):
        resolve_backend("openvino")


def test_auto_order_is_the_one_the_docs_state():
    docs = (Path(__file__).resolve().parents[2] / "docs" / "fast.md").read_text()
    for order in (AUTO_ORDER, AUTO_ORDER_LARGE):
        assert f"the first installed of {', '.join(f'`{b}`' for b in order)}" in docs
    assert f"from batch {LARGE_BATCH}" in docs


def test_unknown_backend(seeded_model):
    with pytest.raises(CnnlabError, match="unknown backend 'tensorrt': choose from auto, eager"):
        load_backend("tensorrt", seeded_model("smallcnn"), (1, 28, 28))


def test_measure_latency_counts_calls():
    calls = []
    times = measure_latency(lambda x: calls.append(x), torch.zeros(1), warmup=2, repeats=3)
    assert len(calls) == 5 and len(times) == 3 and all(t >= 0 for t in times)
