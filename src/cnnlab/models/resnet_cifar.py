"""CIFAR-10 ResNets and their plain twins (He et al. 2015, section 4.2).

He et al., "Deep Residual Learning for Image Recognition", section 4.2 and its table:

  output map size   32x32    16x16    8x8
  # layers          1 + 2n   2n       2n
  # filters         16       32       64

A 3x3 conv (16 filters) on the 32x32 image, then three stages of n blocks of two 3x3 convs
(BN after each conv, ReLU after BN and after the addition); the first conv of stages 2 and 3 has
stride 2. Global average pool, 10-way FC. 6n + 2 weighted layers: n = 3, 5, 7, 9, 18, 200 give
ResNet-20, 32, 44, 56, 110, 1202 (Table 6: 0.27M, 0.46M, 0.66M, 0.85M, 1.7M, 19.4M parameters).

Shortcuts are the paper's option A: the identity, and where a stage halves the map and doubles
the width, subsampling by 2 (stride-2 slicing) with the new channels zero-padded, so the
shortcuts have no parameters. The paper does not say where the zero channels go; we append them
(the next convs are learned, so the place does not matter). The plain nets are the same stacks
without shortcuts. No deviation otherwise; the global pool is adaptive, so any input size works.

Options for the experiments: ``widths`` (narrower stages train faster on a CPU) and
``attn="se"``, a squeeze-and-excitation module (Hu et al. 2017, ``layers.SqueezeExcite``) on the
residual branch of every block before the addition, with ``se_reduction`` (16 in SENet; its
hidden width is at least one channel).
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from cnnlab.errors import CnnlabError
from cnnlab.models.base import Classifier
from cnnlab.models.layers import FcHead, SqueezeExcite
from cnnlab.models.registry import ModelInfo, Paper, register_model


def _conv3x3(cin: int, cout: int, stride: int = 1) -> nn.Conv2d:
    return nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False)


class CifarBlock(nn.Module):
    """Two 3x3 convs; with ``shortcut`` the option-A identity is added before the last ReLU.

    N x inplanes x H x W -> N x planes x H/stride x W/stride.
    """

    def __init__(self, inplanes: int, planes: int, stride: int = 1, shortcut: bool = True,
                 se_reduction: int | None = None) -> None:
        super().__init__()
        self.conv1, self.bn1 = _conv3x3(inplanes, planes, stride), nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2, self.bn2 = _conv3x3(planes, planes), nn.BatchNorm2d(planes)
        self.se = None
        if se_reduction is not None:
            # at least one hidden channel: 16x narrower than a 4-channel stage is nothing
            self.se = SqueezeExcite(planes, min(se_reduction, planes))
        self.shortcut, self.stride, self.extra = shortcut, stride, planes - inplanes

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.bn2(self.conv2(self.relu(self.bn1(self.conv1(x)))))
        if self.se is not None:
            out = self.se(out)
        if self.shortcut:
            identity = x[:, :, ::self.stride, ::self.stride]
            out = out + F.pad(identity, (0, 0, 0, 0, 0, self.extra))  # zero channels appended
        return self.relu(out)


class CifarResNet(FcHead, Classifier):
    """The 6n+2-layer CIFAR network: N x C x 32 x 32 -> N x num_classes.

    Args:
        blocks: n, the blocks per stage.
        shortcut: False gives the plain network.
        widths: filters per stage (16, 32, 64 in the paper).
        attn: None, or "se" for a squeeze-and-excitation module in every block.
        se_reduction: the SE module's channel reduction r (16 in Hu et al.).
    """

    def __init__(self, blocks: int, num_classes: int = 10, in_channels: int = 3,
                 shortcut: bool = True, widths: tuple[int, int, int] = (16, 32, 64),
                 attn: str | None = None, se_reduction: int = 16) -> None:
        super().__init__()
        if attn not in (None, "se") or len(widths) != 3 or min(widths) < 1:
            raise CnnlabError(f"attn must be None or 'se' and widths three positive numbers, "
                              f"got {attn!r}, {widths!r}")
        se = se_reduction if attn == "se" else None
        self.in_channels, self.num_classes = in_channels, num_classes
        self.conv1, self.bn1 = _conv3x3(in_channels, widths[0]), nn.BatchNorm2d(widths[0])
        self.relu = nn.ReLU(inplace=True)
        stages, inplanes = [], widths[0]
        for i, planes in enumerate(widths):
            stride = 1 if i == 0 else 2
            stage = [CifarBlock(inplanes if j == 0 else planes, planes, stride if j == 0 else 1,
                                shortcut, se) for j in range(blocks)]
            stages.append(nn.Sequential(*stage))
            inplanes = planes
        self.layer1, self.layer2, self.layer3 = stages
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(widths[-1], num_classes)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):  # He et al.'s initialization (their ref. [13])
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        x = self.relu(self.bn1(self.conv1(x)))  # N x 16 x 32 x 32
        x = self.layer1(x)  # N x 16 x 32 x 32
        x = self.layer2(x)  # N x 32 x 16 x 16
        return self.layer3(x)  # N x 64 x 8 x 8

    def forward_head(self, x: torch.Tensor, pre_logits: bool = False) -> torch.Tensor:
        x = torch.flatten(self.avgpool(x), 1)  # N x 64
        return x if pre_logits else self.fc(x)


_HE = Paper("Kaiming He, Xiangyu Zhang, Shaoqing Ren, Jian Sun", 2015,
            "Deep Residual Learning for Image Recognition", "https://arxiv.org/abs/1512.03385")

# Table 6 of He et al.: CIFAR-10 test error (%) of each ResNet (the 110-layer one: best of 5
# runs; their mean is 6.61 +- 0.16). The plain nets' errors appear only as curves (Fig. 6).
_CIFAR10_ERROR = {20: 8.75, 32: 7.51, 44: 7.17, 56: 6.97, 110: 6.43, 1202: 7.93}


def _info(depth: int, shortcut: bool) -> ModelInfo:
    n = (depth - 2) // 6
    kind = "ResNet" if shortcut else "plain net"
    return ModelInfo(
        name=f"{'resnet' if shortcut else 'plain'}{depth}", full_name=f"CIFAR {kind}-{depth}",
        paper=_HE, family="resnet_cifar",
        variant=(f"6n+2 = {depth} layers (n={n}), 16-32-64 filters, "
                 + ("option A identity shortcuts" if shortcut else "no shortcuts")),
        input_size=(3, 32, 32), num_classes=10, dataset="cifar10",
        reported={"paper_cifar10_error": _CIFAR10_ERROR[depth]} if shortcut else {},
        deviations="None (zero-padded shortcut channels are appended; the paper leaves it open).",
    )


def _cifar_net(depth: int, shortcut: bool, num_classes: int = 10, in_channels: int = 3,
               **options: Any) -> CifarResNet:
    if "widths" in options:  # a JSON config gives a list
        options["widths"] = tuple(options["widths"])
    return CifarResNet((depth - 2) // 6, num_classes=num_classes, in_channels=in_channels,
                       shortcut=shortcut, **options)


@register_model(_info(20, shortcut=True))
def resnet20(**options: Any) -> CifarResNet:
    """He et al.'s CIFAR-10 ResNet with 20 layers (n=3)."""
    return _cifar_net(20, shortcut=True, **options)


@register_model(_info(32, shortcut=True))
def resnet32(**options: Any) -> CifarResNet:
    """He et al.'s CIFAR-10 ResNet with 32 layers (n=5)."""
    return _cifar_net(32, shortcut=True, **options)


@register_model(_info(44, shortcut=True))
def resnet44(**options: Any) -> CifarResNet:
    """He et al.'s CIFAR-10 ResNet with 44 layers (n=7)."""
    return _cifar_net(44, shortcut=True, **options)


@register_model(_info(56, shortcut=True))
def resnet56(**options: Any) -> CifarResNet:
    """He et al.'s CIFAR-10 ResNet with 56 layers (n=9)."""
    return _cifar_net(56, shortcut=True, **options)


@register_model(_info(110, shortcut=True))
def resnet110(**options: Any) -> CifarResNet:
    """He et al.'s CIFAR-10 ResNet with 110 layers (n=18)."""
    return _cifar_net(110, shortcut=True, **options)


@register_model(_info(1202, shortcut=True))
def resnet1202(**options: Any) -> CifarResNet:
    """He et al.'s CIFAR-10 ResNet with 1202 layers (n=200)."""
    return _cifar_net(1202, shortcut=True, **options)


@register_model(_info(20, shortcut=False))
def plain20(**options: Any) -> CifarResNet:
    """He et al.'s CIFAR-10 plain net with 20 layers (n=3)."""
    return _cifar_net(20, shortcut=False, **options)


@register_model(_info(32, shortcut=False))
def plain32(**options: Any) -> CifarResNet:
    """He et al.'s CIFAR-10 plain net with 32 layers (n=5)."""
    return _cifar_net(32, shortcut=False, **options)


@register_model(_info(44, shortcut=False))
def plain44(**options: Any) -> CifarResNet:
    """He et al.'s CIFAR-10 plain net with 44 layers (n=7)."""
    return _cifar_net(44, shortcut=False, **options)


@register_model(_info(56, shortcut=False))
def plain56(**options: Any) -> CifarResNet:
    """He et al.'s CIFAR-10 plain net with 56 layers (n=9)."""
    return _cifar_net(56, shortcut=False, **options)


@register_model(_info(110, shortcut=False))
def plain110(**options: Any) -> CifarResNet:
    """He et al.'s CIFAR-10 plain net with 110 layers (n=18)."""
    return _cifar_net(110, shortcut=False, **options)
