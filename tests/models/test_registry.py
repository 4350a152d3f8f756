"""Every registered model, by being registered: builds, runs forward and backward, and keeps
the shared interface (forward_features / forward_head / reset_classifier).

Each model is built once (a module-scoped parametrized fixture: pytest runs all checks of one
model, then frees it), so the zoo's big networks are initialized once each.
"""

from __future__ import annotations

import re
import sys

import pytest
import torch

from cnnlab.errors import CnnlabError
from cnnlab.models import get_model, list_models, minimum_input_size, model_info, registry

MODELS = list_models()
CLASSES = 7


@pytest.fixture(scope="module", params=MODELS)
def built(request):
    torch.manual_seed(0)
    return request.param, get_model(request.param, num_classes=CLASSES)


def _batch(name: str, batch: int, side: int | None = None) -> torch.Tensor:
    channels, height, width = model_info(name).input_size
    height, width = (side, side) if side else (height, width)
    return torch.randn(batch, channels, height, width, generator=torch.Generator().manual_seed(0))


def _outputs(out) -> list[torch.Tensor]:
    return list(out) if isinstance(out, tuple | list) else [out]


def test_forward_at_native_size(built) -> None:
    # Batch statistics (train mode) keep a freshly initialized deep residual net finite; in eval
    # mode its BN layers are still identities and resnet1202's activations overflow by design.
    name, model = built
    model.train()
    with torch.no_grad():
        outputs = _outputs(model(_batch(name, 2)))
    assert all(o.shape == (2, CLASSES) and torch.isfinite(o).all() for o in outputs)
    model.eval()
    side = minimum_input_size(model)
    with torch.no_grad():
        out = model(_batch(name, 1, side))
    assert isinstance(out, torch.Tensor), "eval mode returns the main logits only"
    assert out.shape == (1, CLASSES)


def _train_forward(name: str, model) -> list[torch.Tensor]:
    """Train-mode forward at half the native size (cheaper), or native where the model's
    auxiliary heads need it."""
    native = model_info(name).input_size[1]
    side = max(native // 2, minimum_input_size(model))
    try:
        return _outputs(model(_batch(name, 2, side)))
    except (CnnlabError, RuntimeError):
        return _outputs(model(_batch(name, 2)))


def test_backward_gives_finite_gradients(built) -> None:
    name, model = built
    model.train()
    model.zero_grad(set_to_none=True)
    outputs = _train_forward(name, model)
    assert all(o.shape == (2, CLASSES) for o in outputs)
    sum(o.float().square().mean() for o in outputs).backward()
    grads = [p.grad for p in model.parameters() if p.requires_grad]
    assert grads and all(g is not None and torch.isfinite(g).all() for g in grads)
    model.zero_grad(set_to_none=True)


def test_too_small_input_names_the_minimum(built) -> None:
    name, model = built
    model.eval()
    smallest = minimum_input_size(model)
    channels = model_info(name).input_size[0]
    with torch.no_grad():
        assert model(torch.zeros(1, channels, smallest, smallest)).shape == (1, CLASSES)
        if smallest > 1:
            with pytest.raises(CnnlabError, match=f"minimum is {smallest}x{smallest}"):
                model(torch.zeros(1, channels, smallest - 1, smallest - 1))


def test_interface(built) -> None:
    name, model = built
    model.eval()
    x = _batch(name, 1)
    with torch.no_grad():
        features = model.forward_features(x)
        assert features.dim() == 4
        pooled = model.forward_head(features, pre_logits=True)
        assert pooled.dim() == 2 and pooled.shape[0] == 1
        model.reset_classifier(3)
        assert model(x).shape == (1, 3) and model.num_classes == 3
        model.reset_classifier(CLASSES)


@pytest.mark.parametrize("name", MODELS)
def test_metadata(name: str) -> None:
    info = model_info(name)
    assert info.name == name
    assert info.paper.title and info.paper.year >= 1989 and info.paper.url.startswith("http")
    assert len(info.input_size) == 3 and info.variant
    # one naming scheme for reported figures: <source>[_<split>]_top<k>_<acc|error>[_<how>]
    # (or <source>_<dataset>_error for single-figure datasets), percentages
    for key, value in info.reported.items():
        assert re.fullmatch(r"[a-z0-9]+(_[a-z0-9]+)*_(top[15]_(acc|error)|error)(_[a-z0-9]+)?",
                            key), key
        assert 0 < value < 100, (key, value)


@pytest.mark.parametrize("name", MODELS)
def test_builder_is_a_module_function_named_as_the_model(name: str) -> None:
    # One function per name, as torchvision and timm: `grep "def resnet50("` finds the builder.
    builder = registry._BUILDERS[name]
    assert builder.__name__ == builder.__qualname__ == name
    assert builder.__module__.startswith("cnnlab.models.")
    assert getattr(sys.modules[builder.__module__], name) is builder


def test_in_channels_option_and_wrong_channels() -> None:
    model = get_model("smallcnn", in_channels=5).eval()
    with pytest.raises(CnnlabError, match="5-channel input"):
        model(torch.zeros(1, 3, 64, 64))


def test_unknown_name_suggests() -> None:
    with pytest.raises(CnnlabError, match="did you mean smallcnn"):
        get_model("smalcnn")
