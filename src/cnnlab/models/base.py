"""The interface every cnnlab model shares (after timm): features, head, classifier reset.

``forward(x) = forward_head(forward_features(x))``. Tools (profiler, Grad-CAM, fine-tuning)
use these three methods and never edit a model.
"""

from __future__ import annotations

import re

import torch
from torch import nn
from torch.func import functional_call

from cnnlab.errors import CnnlabError
from cnnlab.models.registry import list_models, model_info

_TOO_SMALL = re.compile(
    r"(Output size is too small|Kernel size can't be greater than actual input size|"
    r"input image .* smaller than kernel|non-positive|must be >= 1|Padding size should be less)",
    re.IGNORECASE,
)


class Classifier(nn.Module):
    """Base class: subclasses define ``features`` use, ``forward_features`` and ``classifier``.

    Subclasses set ``self.in_channels`` and ``self.num_classes`` and implement
    ``forward_features`` (N x C x H x W -> feature map) and ``forward_head``.
    """

    in_channels: int
    num_classes: int

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """N x C_in x H x W images -> the last feature map (N x C x h x w)."""
        raise NotImplementedError  # abstract: every model overrides it

    def forward_head(self, x: torch.Tensor, pre_logits: bool = False) -> torch.Tensor:
        """Feature map -> N x num_classes logits (or the pooled features if pre_logits)."""
        raise NotImplementedError  # abstract: every model overrides it

    def get_classifier(self) -> nn.Module:
        """The last layer, the one ``reset_classifier`` replaces."""
        if isinstance(self.classifier, nn.Sequential):
            return self.classifier[-1]
        return self.classifier

    def reset_classifier(self, num_classes: int) -> None:
        """Replace the last layer with a freshly initialized one for ``num_classes`` classes."""
        old = self.get_classifier()
        new = nn.Linear(old.in_features, num_classes) if isinstance(old, nn.Linear) else None
        if new is None:  # a 1x1 conv head (NIN)
            new = nn.Conv2d(old.in_channels, num_classes, kernel_size=1)
        if isinstance(self.classifier, nn.Sequential):
            self.classifier[-1] = new
        else:
            self.classifier = new
        self.num_classes = num_classes

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """N x C_in x H x W images -> N x num_classes logits.

        A wrong shape or an input smaller than the model's minimum raises ``CnnlabError`` that
        names it.
        """
        check_input(self, x)
        try:
            features = self.forward_features(x)
        except RuntimeError as err:
            if not _TOO_SMALL.search(str(err)):
                raise
            raise too_small_error(self, x) from None
        return self.forward_head(features)


def check_input(model: nn.Module, x: torch.Tensor) -> None:
    """Raise CnnlabError unless x is N x in_channels x H x W."""
    if x.dim() != 4:
        raise CnnlabError(f"expected a 4-D batch N x C x H x W, got shape {tuple(x.shape)}")
    channels = getattr(model, "in_channels", x.shape[1])
    if x.shape[1] != channels:
        raise CnnlabError(f"the model takes {channels}-channel input, got {x.shape[1]} channels "
                          f"(shape {tuple(x.shape)})")


def too_small_error(model: nn.Module, x: torch.Tensor) -> CnnlabError:
    """An error naming the smallest square input the model accepts."""
    name = getattr(model, "registry_name", type(model).__name__)
    smallest = minimum_input_size(model)
    size = f"{x.shape[-2]}x{x.shape[-1]}"
    return CnnlabError(f"input {size} is too small for {name}: the minimum is "
                       f"{smallest}x{smallest}")


class _Features(nn.Module):
    """Wraps a model so that ``functional_call`` runs its forward_features."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model.forward_features(x)


def _native_side(model: nn.Module) -> int:
    name = getattr(model, "registry_name", None)
    return model_info(name).input_size[-1] if name in list_models() else 224


def minimum_input_size(model: nn.Module, limit: int = 4096) -> int:
    """Smallest square side (pixels) the model's forward_features accepts.

    Probed on the meta device: the weights are swapped for meta tensors with
    ``torch.func.functional_call``, so no arithmetic runs and no memory is used. The result is
    cached on the model.
    """
    cached = getattr(model, "_minimum_input_size", None)
    if cached is not None:
        return cached
    wrapper = _Features(model)
    state = {k: torch.empty_like(v, device="meta")
             for k, v in wrapper.state_dict(keep_vars=True).items()}
    channels = getattr(model, "in_channels", 3)
    was_training = model.training
    model.eval()

    def fits(side: int) -> bool:
        x = torch.empty(1, channels, side, side, device="meta")
        try:
            functional_call(wrapper, state, (x,))
        except RuntimeError:
            return False
        return True

    try:
        high = _native_side(model)
        while not fits(high):
            if high >= limit:
                raise CnnlabError(f"no square input up to {limit}x{limit} fits the model")
            high = min(limit, 2 * high)
        low = 1
        while low < high:  # the smallest side that fits; sizes above it fit too
            mid = (low + high) // 2
            low, high = (low, mid) if fits(mid) else (mid + 1, high)
    finally:
        model.train(was_training)
    model._minimum_input_size = low
    return low
