"""The walking skeleton's network: the lecture's conv-ReLU-pool blocks, then FC layers.

  INPUT [1x28x28]
  CONV3-32 -> BN -> ReLU -> POOL2     [32x14x14]
  CONV3-64 -> BN -> ReLU -> POOL2     [64x7x7]
  FC-256 -> ReLU -> dropout -> FC-10

Deviation from the lecture's slide: batch norm after each conv. It lets SGD take a large
learning rate so the default recipe reaches 91% on Fashion-MNIST in a couple of CPU minutes.

Options change one design choice at a time, for the experiments (``cnnlab experiment``):
``activation="tanh"`` (AlexNet's Fig. 1 comparison), ``batch_norm=False`` (the slide's net),
``lrn=True`` (AlexNet's local response normalization after each ReLU, before the pool) and
``head="gap"`` (global average pooling and one FC layer, NIN / GoogLeNet style, instead of
FC-256-FC-10).
"""

from __future__ import annotations

import torch
from torch import nn

from cnnlab.errors import CnnlabError
from cnnlab.models.base import Classifier
from cnnlab.models.layers import alexnet_lrn
from cnnlab.models.registry import ModelInfo, Paper, register_model

_LECTURE = Paper(
    authors="cnnlab",
    year=2026,
    title="The lecture's conv-ReLU-pool layout, sized for Fashion-MNIST",
    url="https://github.com/zalandoresearch/fashion-mnist",
)


_ACTIVATIONS = {"relu": lambda: nn.ReLU(inplace=True), "tanh": nn.Tanh}
_HEADS = ("fc", "gap")


def _conv_block(cin: int, cout: int, activation: str, batch_norm: bool,
                lrn: bool) -> list[nn.Module]:
    """Conv3 -> (BN) -> activation -> (LRN) -> pool 2: N x cin x H x W -> N x cout x H/2 x W/2."""
    layers: list[nn.Module] = [nn.Conv2d(cin, cout, 3, padding=1, bias=not batch_norm)]
    layers += [nn.BatchNorm2d(cout)] if batch_norm else []
    layers += [_ACTIVATIONS[activation]()]
    layers += [alexnet_lrn()] if lrn else []
    return [*layers, nn.MaxPool2d(2)]


class SmallCNN(Classifier):
    """Two conv-BN-ReLU-pool blocks and two FC layers for 28x28 (or any size >= 4) images.

    Args (besides the sizes): activation "relu" or "tanh" (also in the FC head); batch_norm;
    lrn; head "fc" (7x7 grid -> FC-hidden -> dropout -> FC) or "gap" (global average pool ->
    dropout -> FC).
    """

    def __init__(self, num_classes: int = 10, in_channels: int = 1, width: int = 32,
                 hidden: int = 256, dropout: float = 0.25, activation: str = "relu",
                 batch_norm: bool = True, lrn: bool = False, head: str = "fc") -> None:
        super().__init__()
        if activation not in _ACTIVATIONS or head not in _HEADS:
            raise CnnlabError(f"activation must be one of {sorted(_ACTIVATIONS)} and head one "
                             f"of {_HEADS}, got {activation!r}, {head!r}")
        self.in_channels, self.num_classes = in_channels, num_classes
        self.features = nn.Sequential(
            *_conv_block(in_channels, width, activation, batch_norm, lrn),
            *_conv_block(width, 2 * width, activation, batch_norm, lrn),
        )
        # Fixed 7x7 grid so the FC layer sees the same layout at any input size; 1x1 for "gap".
        self.pool = nn.AdaptiveAvgPool2d(7 if head == "fc" else 1)
        fc: list[nn.Module] = [nn.Flatten()]
        if head == "fc":
            fc += [nn.Linear(2 * width * 49, hidden), _ACTIVATIONS[activation]()]
        self.classifier = nn.Sequential(
            *fc, nn.Dropout(dropout),
            nn.Linear(hidden if head == "fc" else 2 * width, num_classes),
        )

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        return self.features(x)  # N x 64 x H/4 x W/4

    def forward_head(self, x: torch.Tensor, pre_logits: bool = False) -> torch.Tensor:
        x = self.pool(x)
        return self.classifier[:-1](x) if pre_logits else self.classifier(x)


@register_model(ModelInfo(
    name="smallcnn",
    full_name="Small CNN (conv-ReLU-pool x2, FC x2)",
    paper=_LECTURE,
    family="small",
    variant="CONV3-32, POOL, CONV3-64, POOL (with batch norm), FC-256, FC-10",
    input_size=(1, 28, 28),
    num_classes=10,
    dataset="fashion-mnist",
    deviations="Batch norm after each convolution (the lecture's slide has none).",
))
def smallcnn(num_classes: int = 10, in_channels: int = 1, **options) -> SmallCNN:
    """The default Fashion-MNIST network (about 0.83M parameters, 4.6M MACs at 28x28)."""
    return SmallCNN(num_classes=num_classes, in_channels=in_channels, **options)
