"""ONNX export: the exported graph agrees with torch within 1e-4, at any batch size."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
import torch

from cnnlab.errors import CnnlabError
from cnnlab.inference import export
from cnnlab.inference.onnx_runtime import ort_session
from cnnlab.models import model_info


@pytest.mark.parametrize("name", ["smallcnn", "resnet20"])
def test_onnx_agrees_with_torch(name, seeded_model):
    model = seeded_model(name)
    size = model_info(name).input_size
    path = export.cached_onnx(model, size)
    onnx.checker.check_model(str(path))
    x = torch.randn(5, *size, generator=torch.Generator().manual_seed(1))  # not the export batch
    session = ort_session(path)
    got = session.run(None, {"images": x.numpy()})[0]
    with torch.inference_mode():
        expected = model(x).numpy()
    assert got.shape == (5, model.num_classes)
    np.testing.assert_allclose(got, expected, rtol=0, atol=export.TOLERANCE)
    assert export.onnx_max_error(model, path, x) <= export.TOLERANCE


def test_cache_is_reused_and_keyed_by_weights(monkeypatch, seeded_model):
    model = seeded_model("smallcnn")
    size = model_info("smallcnn").input_size
    first = export.cached_onnx(model, size)
    stamp = first.stat().st_mtime_ns

    def no_export(*args, **kwargs):
        raise AssertionError("the cached file should have been reused")

    monkeypatch.setattr(export, "export_onnx", no_export)
    assert export.cached_onnx(model, size) == first
    assert first.stat().st_mtime_ns == stamp
    with torch.no_grad():
        model.classifier[-1].bias += 1.0
    assert export.weights_key(model, size) not in first.name


def test_copy_refuses_a_folder(tmp_path):
    source = tmp_path / "a.onnx"
    source.write_bytes(b"x")
    with pytest.raises(CnnlabError, match="is a folder"):
        export.copy_atomically(source, tmp_path)


def test_unreadable_onnx_is_a_clean_error(tmp_path):
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"not a model")
    with pytest.raises(CnnlabError, match="ONNX Runtime cannot load it"):
        ort_session(bad)
