"""The model registry: one dict that feeds the CLI, the tests and every tool.

A builder is registered with its metadata (paper, native input size, what the paper reports,
which variant it implements). ``list_models`` and ``get_model`` read the same dict, so a new
model is listed, tested and profiled by being registered.

Importing this module runs ``cnnlab/models/__init__.py`` first, which imports every family, so
the registry is complete whenever it is reachable.
"""

from __future__ import annotations

import difflib
import fnmatch
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from torch import nn

from cnnlab.checkpoint import StateDict
from cnnlab.errors import CnnlabError


@dataclass(frozen=True)
class Paper:
    """Where a model comes from."""

    authors: str
    year: int
    title: str
    url: str


@dataclass(frozen=True)
class ModelInfo:
    """Metadata of a registered model.

    ``reported`` holds what the paper (or the weight provider) reports, e.g.
    ``{"paper_top5_error": 15.3, "torchvision_top1_acc": 56.5}``:
    ``<source>[_<split>]_top<k>_<acc|error>``, percentages, on ImageNet unless ``dataset`` says.
    ``torchvision`` / ``timm`` name the weight-compatible model there, if any.
    ``convert_state`` turns that library's state dict into this model's keys (None: the keys
    are the same). ``pretrained_options`` are the builder options a weights file of that
    library needs, e.g. ``{"transform_input": True}`` for torchvision's GoogLeNet, whose
    weights expect input re-normalized inside the model.
    """

    name: str
    full_name: str
    paper: Paper
    family: str
    variant: str
    input_size: tuple[int, int, int] = (3, 224, 224)
    num_classes: int = 1000
    dataset: str = "imagenet"
    reported: dict[str, float] = field(default_factory=dict)
    torchvision: str | None = None
    timm: str | None = None
    deviations: str = ""
    convert_state: Callable[[StateDict], StateDict] | None = None
    pretrained_options: dict[str, Any] = field(default_factory=dict)


Builder = Callable[..., nn.Module]
_BUILDERS: dict[str, Builder] = {}
_INFO: dict[str, ModelInfo] = {}


def register_model(info: ModelInfo) -> Callable[[Builder], Builder]:
    """Decorator: register ``builder(num_classes=..., in_channels=..., **options)`` as info.name.

    The builder is a module-level function named as the model (``def resnet50(...)``), so
    ``grep "def resnet50("`` finds it.
    """

    def decorate(builder: Builder) -> Builder:
        if info.name in _BUILDERS:
            raise ValueError(f"model {info.name!r} is registered twice")
        _BUILDERS[info.name] = builder
        _INFO[info.name] = info
        return builder

    return decorate


def list_models(pattern: str | None = None) -> list[str]:
    """Registered names, sorted; ``pattern`` is a shell glob such as ``"resnet*"``."""
    names = sorted(_BUILDERS)
    if pattern:
        names = [n for n in names if fnmatch.fnmatchcase(n, pattern)]
    return names


def model_info(name: str) -> ModelInfo:
    """Metadata for a registered model; raises CnnlabError naming close matches."""
    if name not in _INFO:
        raise CnnlabError(_unknown_message(name))
    return _INFO[name]


def get_model(
    name: str, num_classes: int | None = None, in_channels: int | None = None, **options: object
) -> nn.Module:
    """Build a registered model with random weights.

    Args:
        name: a registry name (see ``list_models()``).
        num_classes: output classes; defaults to the model's native dataset (1000 for ImageNet).
        in_channels: input channels; defaults to the native input (3, or 1 for Fashion-MNIST).
        **options: builder-specific keyword options (e.g. ``dropout=0.5``).
    """
    info = model_info(name)
    num_classes = info.num_classes if num_classes is None else num_classes
    in_channels = info.input_size[0] if in_channels is None else in_channels
    if num_classes < 1 or in_channels < 1:
        raise CnnlabError(f"num_classes and in_channels must be positive, got {num_classes}, "
                          f"{in_channels}")
    try:
        model = _BUILDERS[name](num_classes=num_classes, in_channels=in_channels, **options)
    except TypeError as err:
        raise CnnlabError(f"model {name!r}: bad option ({err})") from None
    model.registry_name = name
    return model


def _unknown_message(name: str) -> str:
    close = difflib.get_close_matches(name, list(_BUILDERS), n=3)
    hint = f"; did you mean {', '.join(close)}?" if close else "; `cnnlab models` lists them"
    return f"unknown model {name!r}{hint}"

