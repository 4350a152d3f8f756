"""Tiny models with hand-set weights whose pictures are known in advance (not a conftest:
the tests import these by name)."""

from __future__ import annotations

import torch
from torch import nn

IDENTITY_META = {"normalization": {"mean": [0.0, 0.0], "std": [1.0, 1.0]},
                 "input_size": [2, 16, 16], "classes": ["red", "blue"], "model": "detector"}


class Detector(nn.Module):
    """Class c's logit is 64 x the mean of ReLU(x_c - 0.5): class c is "bright pixels in
    channel c", wherever they are, and nothing else moves it.

    conv (1x1, identity, bias -0.5) -> ReLU -> global average pool -> linear (64 x identity).
    """

    def __init__(self, channels: int = 2) -> None:
        super().__init__()
        self.in_channels = self.num_classes = channels
        self.conv = nn.Conv2d(channels, channels, 1)
        self.relu = nn.ReLU(inplace=True)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(channels, channels)
        with torch.no_grad():
            self.conv.weight.copy_(torch.eye(channels)[:, :, None, None])
            self.conv.bias.fill_(-0.5)
            self.fc.weight.copy_(64.0 * torch.eye(channels))
            self.fc.bias.zero_()
        self.eval()

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        return self.relu(self.conv(x))  # N x C x H x W

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.pool(self.forward_features(x)).flatten(1))


def blobs(size: int = 16, red: tuple[int, int] | None = (2, 3),
          blue: tuple[int, int] | None = None, side: int = 4) -> torch.Tensor:
    """1 x 2 x size x size zeros with a square of ones at ``red`` (channel 0) and ``blue``."""
    x = torch.zeros(1, 2, size, size)
    for channel, corner in enumerate((red, blue)):
        if corner is not None:
            top, left = corner
            x[0, channel, top:top + side, left:left + side] = 1.0
    return x


def conv_stack(seed: int = 0) -> nn.Sequential:
    """Three random 3x3 convs (the middle one stride 2) with ReLUs: receptive field 3, 5, 9."""
    torch.manual_seed(seed)
    return nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(),
                         nn.Conv2d(4, 4, 3, stride=2, padding=1), nn.ReLU(),
                         nn.Conv2d(4, 4, 3, padding=1)).eval()
