"""Every backend computes the same function: same top-1, logits within 1e-4 of eager."""

from __future__ import annotations

import pytest
import torch

from cnnlab.errors import CnnlabError
from cnnlab.inference.backends import BACKENDS, DEFAULT_BACKEND, load_backend, measure_latency
from cnnlab.models import model_info


@pytest.fixture(scope="module")
def smallcnn_and_batch(seeded_model):
    x = torch.randn(8, *model_info("smallcnn").input_size,
                    generator=torch.Generator().manual_seed(2))
    model = seeded_model("smallcnn")
    with torch.inference_mode():
        expected = model(x)
    return model, x, expected


@pytest.mark.parametrize("name", [pytest.param(b, marks=pytest.mark.slow) if b == "compile" else b
                                  for b in BACKENDS])
def test_backend_matches_eager(name, smallcnn_and_batch, seeded_model):
    model, x, expected = smallcnn_and_batch
    backend = load_backend(name, seeded_model("smallcnn"), model_info("smallcnn").input_size)
    logits = backend(x)
    assert logits.dtype == torch.float32 and logits.shape == expected.shape
    assert torch.equal(logits.argmax(1), expected.argmax(1))
    torch.testing.assert_close(logits, expected, rtol=0, atol=1e-4)
    assert backend.num_classes == model.num_classes


def test_default_is_a_backend():
    assert DEFAULT_BACKEND in BACKENDS


def test_unknown_backend(seeded_model):
    with pytest.raises(CnnlabError, match="unknown backend 'tensorrt'"):
        load_backend("tensorrt", seeded_model("smallcnn"), (1, 28, 28))


def test_measure_latency_counts_calls():
    calls = []
    times = measure_latency(lambda x: calls.append(x), torch.zeros(1), warmup=2, repeats=3)
    assert len(calls) == 5 and len(times) == 3 and all(t >= 0 for t in times)
