"""Every registered model, by being registered: builds, runs forward and backward, and keeps
the shared interface (forward_features / forward_head / reset_classifier)."""

from __future__ import annotations

import pytest
import torch

from cnnlab.errors import CnnlabError
from cnnlab.models import get_model, list_models, minimum_input_size, model_info

MODELS = list_models()


def _batch(name: str, batch: int = 2) -> torch.Tensor:
    channels, height, width = model_info(name).input_size
    return torch.randn(batch, channels, height, width, generator=torch.Generator().manual_seed(0))


def _main_output(out):
    return out[0] if isinstance(out, tuple | list) else out


@pytest.mark.parametrize("name", MODELS)
def test_forward_backward_at_native_size(name: str) -> None:
    torch.manual_seed(0)
    model = get_model(name, num_classes=7)
    model.train()
    out = model(_batch(name))
    logits = _main_output(out)
    assert logits.shape == (2, 7)
    assert torch.isfinite(logits).all()
    loss = sum(o.float().square().mean() for o in (out if isinstance(out, tuple | list) else [out]))
    loss.backward()
    grads = [p.grad for p in model.parameters() if p.requires_grad]
    assert grads and all(g is not None and torch.isfinite(g).all() for g in grads)
    model.eval()
    with torch.no_grad():
        eval_out = model(_batch(name))
    assert isinstance(eval_out, torch.Tensor) and eval_out.shape == (2, 7)


@pytest.mark.parametrize("name", MODELS)
def test_interface(name: str) -> None:
    model = get_model(name, num_classes=5).eval()
    x = _batch(name, batch=1)
    with torch.no_grad():
        features = model.forward_features(x)
        assert features.dim() == 4
        pooled = model.forward_head(features, pre_logits=True)
        assert pooled.dim() == 2 and pooled.shape[0] == 1
        model.reset_classifier(3)
        assert model(x).shape == (1, 3)


@pytest.mark.parametrize("name", MODELS)
def test_metadata(name: str) -> None:
    info = model_info(name)
    assert info.name == name
    assert info.paper.title and info.paper.year >= 1989 and info.paper.url.startswith("http")
    assert len(info.input_size) == 3 and info.variant


@pytest.mark.parametrize("name", MODELS)
def test_too_small_input_names_the_minimum(name: str) -> None:
    model = get_model(name).eval()
    smallest = minimum_input_size(model)
    channels = model_info(name).input_size[0]
    with torch.no_grad():
        assert model(torch.zeros(1, channels, smallest, smallest)).shape[0] == 1
        if smallest > 1:
            with pytest.raises(CnnlabError, match=f"minimum is {smallest}x{smallest}"):
                model(torch.zeros(1, channels, smallest - 1, smallest - 1))


def test_in_channels_option_and_wrong_channels() -> None:
    model = get_model(MODELS[0], in_channels=5).eval()
    with pytest.raises(CnnlabError, match="5-channel input"):
        model(torch.zeros(1, 3, 64, 64))


def test_unknown_name_suggests() -> None:
    with pytest.raises(CnnlabError, match="unknown model"):
        get_model("smalcnn")
