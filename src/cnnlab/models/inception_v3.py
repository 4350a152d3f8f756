"""Inception-v3 (Szegedy et al. 2015) with its auxiliary head, torchvision-compatible.

Szegedy, Vanhoucke, Ioffe, Shlens, Wojna, "Rethinking the Inception Architecture for Computer
Vision", Table 1 (output sizes at the native 299x299; "V" = valid, no padding):

  conv 3x3/2 V          149x149x32    Conv2d_1a_3x3
  conv 3x3/1 V          147x147x32    Conv2d_2a_3x3
  conv padded 3x3/1     147x147x64    Conv2d_2b_3x3
  pool 3x3/2            73x73x64      maxpool1
  conv 1x1 / conv 3x3 V 71x71x192     Conv2d_3b_1x1, Conv2d_4a_3x3 (the table's "80, 192")
  pool 3x3/2            35x35x192     maxpool2
  3 x Inception (Fig. 5)  35x35x288   Mixed_5b, 5c, 5d   (5x5 -> two 3x3)
  grid reduction (Fig. 10) 17x17x768  Mixed_6a
  4 x Inception (Fig. 6)  17x17x768   Mixed_6b .. 6e     (n x n -> 1 x 7 and 7 x 1)
  grid reduction          8x8x1280    Mixed_7a
  2 x Inception (Fig. 7)  8x8x2048    Mixed_7b, 7c       (expanded 1x3 / 3x1 outputs)
  pool 8x8, dropout, linear, softmax

Every conv is conv -> batch norm (eps 1e-3) -> ReLU. The auxiliary classifier (section 4, Fig. 8)
sits on the 17x17 grid after Mixed_6e: 5x5/3 average pool, 1x1 conv 128, 5x5 conv 768, FC; in
training ``forward`` returns (main, aux) logits, in eval mode the main logits.

This follows torchvision's port of Google's released model (names from the TF-slim checkpoint),
so torchvision.models.inception_v3's state dict loads unchanged. Deviations from the paper's
table, as in that model: Mixed_5b's pool branch has 32 filters (35x35x256 after it, the table
says 288 for all three); the 35x35 modules have a 1x1-5x5 branch besides the two-3x3 one
(Figure 5 shows only the latter); adaptive global
pooling, so any input >= 75x75 works (the aux head, used in training, needs >= 299x299, as
torchvision's).
torchvision returns InceptionOutputs(logits, aux_logits); we return a plain tuple.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from cnnlab.models.base import Classifier
from cnnlab.models.layers import BasicConv2d as Conv
from cnnlab.models.layers import FcHead, imagenet_to_half_normalization
from cnnlab.models.registry import ModelInfo, Paper, register_model


def _avg3(x: torch.Tensor) -> torch.Tensor:
    return F.avg_pool2d(x, kernel_size=3, stride=1, padding=1)


class InceptionA(nn.Module):
    """Figure 5 (35x35): 1x1 | 1x1-5x5 | 1x1-3x3-3x3 | avgpool-1x1 -> 224 + pool_features."""

    def __init__(self, cin: int, pool_features: int) -> None:
        super().__init__()
        self.branch1x1 = Conv(cin, 64, 1)
        self.branch5x5_1, self.branch5x5_2 = Conv(cin, 48, 1), Conv(48, 64, 5, padding=2)
        self.branch3x3dbl_1 = Conv(cin, 64, 1)
        self.branch3x3dbl_2 = Conv(64, 96, 3, padding=1)
        self.branch3x3dbl_3 = Conv(96, 96, 3, padding=1)
        self.branch_pool = Conv(cin, pool_features, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b5 = self.branch5x5_2(self.branch5x5_1(x))
        b3 = self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x)))
        return torch.cat([self.branch1x1(x), b5, b3, self.branch_pool(_avg3(x))], 1)


class InceptionB(nn.Module):
    """Figure 10 grid reduction 35x35 -> 17x17: 3x3/2 | 1x1-3x3-3x3/2 | maxpool/2."""

    def __init__(self, cin: int) -> None:
        super().__init__()
        self.branch3x3 = Conv(cin, 384, 3, stride=2)
        self.branch3x3dbl_1 = Conv(cin, 64, 1)
        self.branch3x3dbl_2 = Conv(64, 96, 3, padding=1)
        self.branch3x3dbl_3 = Conv(96, 96, 3, stride=2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b3 = self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x)))
        return torch.cat([self.branch3x3(x), b3, F.max_pool2d(x, 3, stride=2)], 1)


def _sevens(cin: int, mid: int, cout: int, first: str, count: int) -> list[Conv]:
    """1x1 to ``mid``, then ``count`` alternating 1x7 / 7x1 convs (the last to ``cout``)."""
    convs, shapes = [Conv(cin, mid, 1)], {"1x7": ((1, 7), (0, 3)), "7x1": ((7, 1), (3, 0))}
    order = [first, "7x1" if first == "1x7" else "1x7"]
    for i in range(count):
        kernel, padding = shapes[order[i % 2]]
        convs.append(Conv(mid, cout if i == count - 1 else mid, kernel, padding=padding))
    return convs


class InceptionC(nn.Module):
    """Figure 6 (17x17, n=7): 1x1 | 1x1-1x7-7x1 | 1x1-7x1-1x7-7x1-1x7 | avgpool-1x1 -> 768."""

    def __init__(self, cin: int, channels_7x7: int) -> None:
        super().__init__()
        c7 = channels_7x7
        self.branch1x1 = Conv(cin, 192, 1)
        self.branch7x7_1, self.branch7x7_2, self.branch7x7_3 = _sevens(cin, c7, 192, "1x7", 2)
        (self.branch7x7dbl_1, self.branch7x7dbl_2, self.branch7x7dbl_3, self.branch7x7dbl_4,
         self.branch7x7dbl_5) = _sevens(cin, c7, 192, "7x1", 4)
        self.branch_pool = Conv(cin, 192, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b7 = self.branch7x7_3(self.branch7x7_2(self.branch7x7_1(x)))
        d7 = self.branch7x7dbl_1(x)
        for conv in (self.branch7x7dbl_2, self.branch7x7dbl_3, self.branch7x7dbl_4,
                     self.branch7x7dbl_5):
            d7 = conv(d7)
        return torch.cat([self.branch1x1(x), b7, d7, self.branch_pool(_avg3(x))], 1)


class InceptionD(nn.Module):
    """Grid reduction 17x17 -> 8x8: 1x1-3x3/2 | 1x1-1x7-7x1-3x3/2 | maxpool/2 -> 1280."""

    def __init__(self, cin: int) -> None:
        super().__init__()
        self.branch3x3_1, self.branch3x3_2 = Conv(cin, 192, 1), Conv(192, 320, 3, stride=2)
        self.branch7x7x3_1, self.branch7x7x3_2, self.branch7x7x3_3 = _sevens(cin, 192, 192,
                                                                             "1x7", 2)
        self.branch7x7x3_4 = Conv(192, 192, 3, stride=2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b3 = self.branch3x3_2(self.branch3x3_1(x))
        b7 = self.branch7x7x3_1(x)
        for conv in (self.branch7x7x3_2, self.branch7x7x3_3, self.branch7x7x3_4):
            b7 = conv(b7)
        return torch.cat([b3, b7, F.max_pool2d(x, 3, stride=2)], 1)


class InceptionE(nn.Module):
    """Figure 7 (8x8): 1x1 | 1x1-(1x3, 3x1) | 1x1-3x3-(1x3, 3x1) | avgpool-1x1 -> 2048."""

    def __init__(self, cin: int) -> None:
        super().__init__()
        self.branch1x1 = Conv(cin, 320, 1)
        self.branch3x3_1 = Conv(cin, 384, 1)
        self.branch3x3_2a = Conv(384, 384, (1, 3), padding=(0, 1))
        self.branch3x3_2b = Conv(384, 384, (3, 1), padding=(1, 0))
        self.branch3x3dbl_1 = Conv(cin, 448, 1)
        self.branch3x3dbl_2 = Conv(448, 384, 3, padding=1)
        self.branch3x3dbl_3a = Conv(384, 384, (1, 3), padding=(0, 1))
        self.branch3x3dbl_3b = Conv(384, 384, (3, 1), padding=(1, 0))
        self.branch_pool = Conv(cin, 192, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b3 = self.branch3x3_1(x)
        b3 = torch.cat([self.branch3x3_2a(b3), self.branch3x3_2b(b3)], 1)
        d3 = self.branch3x3dbl_2(self.branch3x3dbl_1(x))
        d3 = torch.cat([self.branch3x3dbl_3a(d3), self.branch3x3dbl_3b(d3)], 1)
        return torch.cat([self.branch1x1(x), b3, d3, self.branch_pool(_avg3(x))], 1)


class InceptionAux(nn.Module):
    """N x 768 x 17 x 17 -> avgpool 5/3 (5x5) -> 1x1 conv 128 -> 5x5 conv 768 -> FC."""

    def __init__(self, cin: int, num_classes: int) -> None:
        super().__init__()
        self.conv0, self.conv1 = Conv(cin, 128, 1), Conv(128, 768, 5)
        self.fc = nn.Linear(768, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv1(self.conv0(F.avg_pool2d(x, 5, stride=3)))  # N x 768 x 1 x 1
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


class Inception3(FcHead, Classifier):
    """Inception-v3; modules named as torchvision's (Conv2d_1a_3x3 ... Mixed_7c, AuxLogits, fc)."""

    def __init__(self, num_classes: int = 1000, in_channels: int = 3, aux_logits: bool = True,
                 transform_input: bool = False, dropout: float = 0.5) -> None:
        super().__init__()
        if transform_input and in_channels != 3:
            raise ValueError("transform_input re-normalizes RGB input; it needs in_channels=3")
        self.in_channels, self.num_classes = in_channels, num_classes
        self.transform_input = transform_input
        self.Conv2d_1a_3x3 = Conv(in_channels, 32, 3, stride=2)
        self.Conv2d_2a_3x3 = Conv(32, 32, 3)
        self.Conv2d_2b_3x3 = Conv(32, 64, 3, padding=1)
        self.maxpool1 = nn.MaxPool2d(3, stride=2)
        self.Conv2d_3b_1x1 = Conv(64, 80, 1)
        self.Conv2d_4a_3x3 = Conv(80, 192, 3)
        self.maxpool2 = nn.MaxPool2d(3, stride=2)
        self.Mixed_5b, self.Mixed_5c = InceptionA(192, 32), InceptionA(256, 64)
        self.Mixed_5d = InceptionA(288, 64)
        self.Mixed_6a = InceptionB(288)
        self.Mixed_6b, self.Mixed_6c = InceptionC(768, 128), InceptionC(768, 160)
        self.Mixed_6d, self.Mixed_6e = InceptionC(768, 160), InceptionC(768, 192)
        self.AuxLogits = InceptionAux(768, num_classes) if aux_logits else None
        self.Mixed_7a = InceptionD(768)
        self.Mixed_7b, self.Mixed_7c = InceptionE(1280), InceptionE(2048)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(2048, num_classes)
        self._aux_input: torch.Tensor | None = None
        for m in self.modules():  # truncated normal, std 0.1 (torchvision's init)
            if isinstance(m, nn.Conv2d | nn.Linear):
                nn.init.trunc_normal_(m.weight, std=0.1, a=-2.0, b=2.0)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        if self.transform_input:
            x = imagenet_to_half_normalization(x)
        x = self.Conv2d_2a_3x3(self.Conv2d_1a_3x3(x))  # N x 32 x 147 x 147
        x = self.maxpool1(self.Conv2d_2b_3x3(x))  # N x 64 x 73 x 73
        x = self.maxpool2(self.Conv2d_4a_3x3(self.Conv2d_3b_1x1(x)))  # N x 192 x 35 x 35
        x = self.Mixed_5d(self.Mixed_5c(self.Mixed_5b(x)))  # N x 288 x 35 x 35
        x = self.Mixed_6a(x)  # N x 768 x 17 x 17
        x = self.Mixed_6e(self.Mixed_6d(self.Mixed_6c(self.Mixed_6b(x))))  # N x 768 x 17 x 17
        if self._aux_input is not None:
            self._aux_input = x
        x = self.Mixed_7a(x)  # N x 1280 x 8 x 8
        return self.Mixed_7c(self.Mixed_7b(x))  # N x 2048 x 8 x 8

    def forward_head(self, x: torch.Tensor, pre_logits: bool = False) -> torch.Tensor:
        x = self.dropout(torch.flatten(self.avgpool(x), 1))  # N x 2048
        return x if pre_logits else self.fc(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        """N x C x H x W -> N x num_classes logits; in training (with the aux head) a tuple
        (main, aux) of N x num_classes logits."""
        if not (self.training and self.AuxLogits is not None):
            return super().forward(x)
        self._aux_input = x.new_empty(0)  # a marker: forward_features stores the 17x17 map
        try:
            logits = super().forward(x)
            aux = self.AuxLogits(self._aux_input)
        finally:
            self._aux_input = None
        return logits, aux

    def aux_classifiers(self) -> list[nn.Module]:
        """The auxiliary head's last layer (replaced by ``reset_classifier`` too)."""
        return [] if self.AuxLogits is None else [self.AuxLogits.fc]

    def reset_classifier(self, num_classes: int) -> None:
        super().reset_classifier(num_classes)
        if self.AuxLogits is not None:
            self.AuxLogits.fc = nn.Linear(self.AuxLogits.fc.in_features, num_classes)


@register_model(ModelInfo(
    name="inception_v3", full_name="Inception-v3",
    paper=Paper("Christian Szegedy, Vincent Vanhoucke, Sergey Ioffe, Jonathon Shlens, "
                "Zbigniew Wojna", 2015, "Rethinking the Inception Architecture for Computer Vision",
                "https://arxiv.org/abs/1512.00567"),
    family="inception", variant="Table 1 with batch norm and the auxiliary head (torchvision)",
    input_size=(3, 299, 299),
    # Szegedy et al. 2015 Table 3 (single model, single crop) and torchvision's IMAGENET1K_V1.
    reported={"paper_top1_error": 21.2, "paper_top5_error": 5.6,
              "torchvision_top1_acc": 77.294, "torchvision_top5_acc": 93.45},
    torchvision="inception_v3",
    deviations="Google's released model as torchvision ports it: Mixed_5b has a 32-filter pool "
               "branch (256 channels out), adaptive global pool.",
    # torchvision's weights expect its transform_input=True, as for googlenet_bn.
    pretrained_options={"transform_input": True},
))
def inception_v3(num_classes: int = 1000, in_channels: int = 3, aux_logits: bool = True,
                 transform_input: bool = False) -> Inception3:
    """Inception-v3 at 299x299. Build with ``transform_input=True`` for torchvision's
    IMAGENET1K_V1 weights, as torchvision does."""
    return Inception3(num_classes, in_channels, aux_logits=aux_logits,
                      transform_input=transform_input)
