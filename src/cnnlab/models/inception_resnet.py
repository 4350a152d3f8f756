"""Inception-ResNet-v2 and -v1 (Szegedy et al. 2016).

Szegedy, Ioffe, Vanhoucke, Alemi, "Inception-v4, Inception-ResNet and the Impact of Residual
Connections on Learning", Figure 15 (output sizes of v2 at the native 299x299):

  stem                           35x35x320    conv2d_1a .. conv2d_4a, maxpool_5a, mixed_5b
  10 x Inception-ResNet-A (Fig. 16)  35x35x320    repeat      (residual scale 0.17)
  Reduction-A (Fig. 7, k=256 l=256 m=384 n=384)  17x17x1088   mixed_6a
  20 x Inception-ResNet-B (Fig. 17)  17x17x1088   repeat_1    (scale 0.10)
  Reduction-B (Fig. 18)          8x8x2080     mixed_7a
  10 x Inception-ResNet-C (Fig. 19)  8x8x2080     repeat_2 (9) + block8 (no ReLU)  (scale 0.20)
  1x1 conv 1536, average pool, dropout (keep 0.8), softmax   conv2d_7b, fc

Each residual block: branches -> concat -> linear 1x1 conv (with bias) -> x + scale * that ->
ReLU. Convs are conv -> batch norm (eps 1e-3) -> ReLU.

``inception_resnet_v2`` follows the released TF-slim model as timm ports it (timm's
``inception_resnet_v2`` state dict loads after renaming ``classif`` -> ``fc``, the conversion
its ModelInfo declares). That model deviates from the paper's figures: the stem is
Inception-v3's plus an Inception-A-like block (``mixed_5b``), not Figure 3's; the residual blocks
output 320 / 1088 / 2080 channels (the figures say 384 / 1154 / 2048, which do not fit the
reduction modules); it stacks 10 / 20 / 10 blocks (Figure 15: 5 / 10 / 5) and the last has no
ReLU.

``inception_resnet_v1`` is built from the paper's figures alone (no released weights): Figure 14
stem, 5 x Inception-ResNet-A (Fig. 10, 256 channels), Reduction-A (k=192 l=192 m=256 n=384),
10 x B (Fig. 11, 896), Reduction-B (Fig. 12), 5 x C (Fig. 13, 1792), average pool, dropout 0.2.
The paper gives scaling factors "between 0.1 and 0.3" without values; we use v2's. Unlike the
paper, which uses batch norm only on the stem-like layers, every conv has batch norm here.
Both pool adaptively, so inputs from 75x75 up work.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from cnnlab.checkpoint import StateDict
from cnnlab.models.base import Classifier
from cnnlab.models.layers import BasicConv2d, FcHead
from cnnlab.models.registry import ModelInfo, Paper, register_model

# A branch is a list of layers: (out channels, kernel) convs, stride 1 "same" padded, or
# (out channels, kernel, 2) stride-2 "valid" convs; "avg" is a 3x3/1 average pool.
Layer = tuple | str


def _branch(cin: int, layers: list[Layer]) -> tuple[nn.Module, int]:
    modules: list[nn.Module] = []
    for layer in layers:
        if layer == "avg":
            modules.append(nn.AvgPool2d(3, stride=1, padding=1, count_include_pad=False))
            continue
        cout, kernel, *stride = layer
        kh, kw = (kernel, kernel) if isinstance(kernel, int) else kernel
        padding = 0 if stride else (kh // 2, kw // 2)
        modules.append(BasicConv2d(cin, cout, (kh, kw), stride=stride[0] if stride else 1,
                                   padding=padding))
        cin = cout
    return (modules[0] if len(modules) == 1 else nn.Sequential(*modules)), cin


class InceptionBranches(nn.Module):
    """Parallel branches ``branch0``, ``branch1``, ... concatenated; with ``pool`` a 3x3/2 max
    pool is the last branch (the reduction modules). N x cin x H x W -> N x out_channels x h x w."""

    def __init__(self, cin: int, branches: list[list[Layer]], pool: bool = False) -> None:
        super().__init__()
        self.out_channels = cin if pool else 0
        for i, layers in enumerate(branches):
            module, cout = _branch(cin, layers)
            setattr(self, f"branch{i}", module)
            self.out_channels += cout
        self.count = len(branches)
        if pool:
            setattr(self, f"branch{self.count}", nn.MaxPool2d(3, stride=2))
            self.count += 1

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([getattr(self, f"branch{i}")(x) for i in range(self.count)], 1)


class InceptionResidual(InceptionBranches):
    """x + scale * linear_1x1(concat(branches(x))), then ReLU (unless ``relu=False``)."""

    def __init__(self, channels: int, branches: list[list[Layer]], scale: float,
                 relu: bool = True) -> None:
        super().__init__(channels, branches)
        self.scale = scale
        self.conv2d = nn.Conv2d(self.out_channels, channels, kernel_size=1)
        self.relu = nn.ReLU() if relu else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = x + self.scale * self.conv2d(super().forward(x))
        return out if self.relu is None else self.relu(out)


@dataclass(frozen=True)
class _Net:
    """One version's table: residual blocks (count, branches, scale) and reduction modules."""

    block_a: tuple[int, list[list[Layer]], float]
    reduction_a: list[list[Layer]]
    block_b: tuple[int, list[list[Layer]], float]
    reduction_b: list[list[Layer]]
    block_c: tuple[int, list[list[Layer]], float]


def _reduction_a(k: int, l: int, m: int, n: int) -> list[list[Layer]]:  # Table 1 names
    return [[(n, 3, 2)], [(k, 1), (l, 3), (m, 3, 2)]]  # Figure 7, plus the max pool


V2 = _Net(
    block_a=(10, [[(32, 1)], [(32, 1), (32, 3)], [(32, 1), (48, 3), (64, 3)]], 0.17),
    reduction_a=_reduction_a(256, 256, 384, 384),
    block_b=(20, [[(192, 1)], [(128, 1), (160, (1, 7)), (192, (7, 1))]], 0.10),
    reduction_b=[[(256, 1), (384, 3, 2)], [(256, 1), (288, 3, 2)],
                 [(256, 1), (288, 3), (320, 3, 2)]],
    block_c=(10, [[(192, 1)], [(192, 1), (224, (1, 3)), (256, (3, 1))]], 0.20),
)
V1 = _Net(
    block_a=(5, [[(32, 1)], [(32, 1), (32, 3)], [(32, 1), (32, 3), (32, 3)]], 0.17),
    reduction_a=_reduction_a(192, 192, 256, 384),
    block_b=(10, [[(128, 1)], [(128, 1), (128, (1, 7)), (128, (7, 1))]], 0.10),
    reduction_b=[[(256, 1), (384, 3, 2)], [(256, 1), (256, 3, 2)],
                 [(256, 1), (256, 3), (256, 3, 2)]],
    block_c=(5, [[(192, 1)], [(192, 1), (192, (1, 3)), (192, (3, 1))]], 0.20),
)
_MIXED_5B = [[(96, 1)], [(48, 1), (64, 5)], [(64, 1), (96, 3), (96, 3)], ["avg", (64, 1)]]


class InceptionResNet(FcHead, Classifier):
    """Inception-ResNet-v1 or -v2; modules named as timm's / TF-slim's (conv2d_1a ... conv2d_7b)."""

    def __init__(self, version: int = 2, num_classes: int = 1000, in_channels: int = 3,
                 dropout: float = 0.2) -> None:
        super().__init__()
        self.in_channels, self.num_classes = in_channels, num_classes
        net = V2 if version == 2 else V1
        self.version = version
        self.conv2d_1a = BasicConv2d(in_channels, 32, 3, stride=2)
        self.conv2d_2a = BasicConv2d(32, 32, 3)
        self.conv2d_2b = BasicConv2d(32, 64, 3, padding=1)
        self.maxpool_3a = nn.MaxPool2d(3, stride=2)
        self.conv2d_3b = BasicConv2d(64, 80, 1)
        self.conv2d_4a = BasicConv2d(80, 192, 3)
        if version == 2:
            self.maxpool_5a = nn.MaxPool2d(3, stride=2)
            self.mixed_5b = InceptionBranches(192, _MIXED_5B)
        else:
            self.conv2d_4b = BasicConv2d(192, 256, 3, stride=2)
        channels = 320 if version == 2 else 256
        self.repeat = _stack(channels, *net.block_a)
        self.mixed_6a = InceptionBranches(channels, net.reduction_a, pool=True)
        self.repeat_1 = _stack(self.mixed_6a.out_channels, *net.block_b)
        self.mixed_7a = InceptionBranches(self.mixed_6a.out_channels, net.reduction_b, pool=True)
        channels = self.mixed_7a.out_channels
        count, branches, scale = net.block_c
        if version == 2:  # TF-slim: the last block is separate and has no ReLU
            self.repeat_2 = _stack(channels, count - 1, branches, scale)
            self.block8 = InceptionResidual(channels, branches, 1.0, relu=False)
            self.conv2d_7b = BasicConv2d(channels, 1536, 1)
            channels = 1536
        else:
            self.repeat_2 = _stack(channels, count, branches, scale)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(channels, num_classes)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv2d_2b(self.conv2d_2a(self.conv2d_1a(x)))  # N x 64 x 147 x 147
        x = self.conv2d_4a(self.conv2d_3b(self.maxpool_3a(x)))  # N x 192 x 71 x 71
        if self.version == 2:
            x = self.mixed_5b(self.maxpool_5a(x))  # N x 320 x 35 x 35
        else:
            x = self.conv2d_4b(x)  # N x 256 x 35 x 35
        x = self.repeat(x)  # N x 320 (v1: 256) x 35 x 35
        x = self.repeat_1(self.mixed_6a(x))  # N x 1088 (v1: 896) x 17 x 17
        x = self.repeat_2(self.mixed_7a(x))  # N x 2080 (v1: 1792) x 8 x 8
        if self.version == 2:
            x = self.conv2d_7b(self.block8(x))  # N x 1536 x 8 x 8
        return x  # N x 1536 (v1: 1792) x 8 x 8

    def forward_head(self, x: torch.Tensor, pre_logits: bool = False) -> torch.Tensor:
        x = self.dropout(torch.flatten(self.avgpool(x), 1))
        return x if pre_logits else self.fc(x)


def _stack(channels: int, count: int, branches: list[list[Layer]], scale: float
           ) -> nn.Sequential:
    return nn.Sequential(*[InceptionResidual(channels, branches, scale) for _ in range(count)])


_SZEGEDY16 = Paper("Christian Szegedy, Sergey Ioffe, Vincent Vanhoucke, Alex Alemi", 2016,
                   "Inception-v4, Inception-ResNet and the Impact of Residual Connections on "
                   "Learning", "https://arxiv.org/abs/1602.07261")
_V2_DEVIATIONS = ("The released TF-slim model (timm's): Inception-v3 stem + mixed_5b instead of "
                  "Figure 3's stem; 320/1088/2080 channels instead of the figures' "
                  "384/1154/2048; 10/20/10 blocks instead of 5/10/5; adaptive average pool.")


def from_timm_inception_resnet(state: StateDict) -> StateDict:
    """timm's ``inception_resnet_v2`` state dict -> ours: its classifier ``classif`` is ``fc``."""
    return {("fc." + k.removeprefix("classif.") if k.startswith("classif.") else k): v
            for k, v in state.items()}


@register_model(ModelInfo(
    name="inception_resnet_v2", full_name="Inception-ResNet-v2", paper=_SZEGEDY16,
    family="inception_resnet", variant="Released TF-slim model: 10 x A, 20 x B, 10 x C",
    input_size=(3, 299, 299),
    # Szegedy et al. 2016 Table 2 (single model, single crop, ILSVRC 2012 val).
    reported={"paper_top1_error": 19.9, "paper_top5_error": 4.9},
    timm="inception_resnet_v2", deviations=_V2_DEVIATIONS,
    convert_state=from_timm_inception_resnet,
))
def inception_resnet_v2(num_classes: int = 1000, in_channels: int = 3, dropout: float = 0.2
                        ) -> InceptionResNet:
    """Inception-ResNet-v2 at 299x299; timm's state dict loads via load_timm_weights."""
    return InceptionResNet(2, num_classes, in_channels, dropout)


@register_model(ModelInfo(
    name="inception_resnet_v1", full_name="Inception-ResNet-v1", paper=_SZEGEDY16,
    family="inception_resnet", variant="Figures 10-15: 5 x A, 10 x B, 5 x C",
    input_size=(3, 299, 299),
    reported={"paper_top1_error": 21.3, "paper_top5_error": 5.5},  # Table 2, as above
    deviations="Batch norm on every conv; residual scales 0.17/0.10/0.20 (the paper: 0.1-0.3); "
               "adaptive average pool.",
))
def inception_resnet_v1(num_classes: int = 1000, in_channels: int = 3, dropout: float = 0.2
                        ) -> InceptionResNet:
    """Inception-ResNet-v1 from the paper's figures (no released weights to match)."""
    return InceptionResNet(1, num_classes, in_channels, dropout)
