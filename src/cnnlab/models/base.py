"""The interface every cnnlab model shares (after timm): features, head, classifier reset.

``forward(x) = forward_head(forward_features(x))``. Tools (profiler, Grad-CAM, fine-tuning)
use these three methods and never edit a model.
"""

from __future__ import annotations

import re

import torch
from torch import nn

from cnnlab.errors import CnnlabError

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
        return self.classifier[-1] if isinstance(self.classifier, nn.Sequential) else self.classifier

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


def minimum_input_size(model: nn.Module, limit: int = 2048) -> int:
    """Smallest square side the model's forward_features accepts (found on fake tensors)."""
    from torch._subclasses.fake_tensor import FakeTensorMode

    channels = getattr(model, "in_channels", 3)
    was_training = model.training
    model.eval()

    def fits(side: int) -> bool:
        with FakeTensorMode(allow_non_fake_inputs=True) as mode, torch.no_grad():
            x = mode.from_tensor(torch.empty(1, channels, side, side))
            try:
                model.forward_features(x)
            except RuntimeError:
                return False
            return True

    low, high = 1, limit
    try:
        if not fits(high):
            return limit
        while low < high:  # the smallest side that fits; sizes above it fit too
            mid = (low + high) // 2
            low, high = (low, mid) if fits(mid) else (mid + 1, high)
    finally:
        model.train(was_training)
    return low
