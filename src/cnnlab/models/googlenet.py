"""GoogLeNet / Inception v1 (Szegedy et al. 2014) as published, and torchvision's BN variant.

Szegedy et al., "Going Deeper with Convolutions", Table 1 (output sizes at 224x224):

  type            patch/stride  output      #1x1 #3x3red #3x3 #5x5red #5x5 poolproj
  conv1           7x7/2         112x112x64
  max pool        3x3/2         56x56x64      (then LRN)
  conv2 (reduce)  1x1/1         56x56x64
  conv3           3x3/1         56x56x192     (then LRN)
  max pool        3x3/2         28x28x192
  inception 3a,3b               28x28x256/480 rows of _TABLE1 below
  max pool        3x3/2         14x14x480
  inception 4a-4e               14x14x512..832  (aux1 on 4a, aux2 on 4d)
  max pool        3x3/2         7x7x832
  inception 5a,5b               7x7x832/1024
  avg pool        7x7/1         1x1x1024
  dropout 40%, linear 1000

Auxiliary classifiers (section 5): 5x5/3 average pool, 1x1 conv 128 + ReLU, FC 1024 + ReLU,
dropout 70%, FC. In training mode ``forward`` returns (main, aux1, aux2) logits (the paper
weights the auxiliary losses by 0.3); in eval mode the main logits only.

``googlenet`` follows the authors' released Caffe model (bvlc_googlenet prototxt): ReLU after
every conv, no batch norm, LRN with Caffe's parameters (size 5, alpha 1e-4 as Caffe writes it,
beta 0.75, k 1), max pools rounding up (Caffe's ceil mode). Deviations: the final 7x7 average
pool and the auxiliary heads are adaptive (equal at 224x224; other input sizes also work, the aux
heads pool 5x5/3 where the map allows it, then to 4x4).

``googlenet_bn`` is torchvision's model, state-dict compatible with
torchvision.models.googlenet: batch norm after every conv and no LRN, a 3x3 conv where the paper
has the 5x5 branch (a slip in the original port, kept by torchvision for its weights), a 2x2 max
pool before 5a, adaptive 4x4 pooling in the aux heads, dropout 0.2. Its aux outputs come in our
order (main, aux1, aux2); torchvision returns (main, aux2, aux1).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

import torch
import torch.nn.functional as F
from torch import nn

from cnnlab.models.base import Classifier
from cnnlab.models.layers import (
    BasicConv2d,
    FcHead,
    imagenet_to_half_normalization,
    local_response_norm,
)
from cnnlab.models.registry import ModelInfo, Paper, register_model

# Table 1: inception module -> (#1x1, #3x3 reduce, #3x3, #5x5 reduce, #5x5, pool proj).
_TABLE1 = {
    "3a": (64, 96, 128, 16, 32, 32),
    "3b": (128, 128, 192, 32, 96, 64),
    "4a": (192, 96, 208, 16, 48, 64),
    "4b": (160, 112, 224, 24, 64, 64),
    "4c": (128, 128, 256, 24, 64, 64),
    "4d": (112, 144, 288, 32, 64, 64),
    "4e": (256, 160, 320, 32, 128, 128),
    "5a": (256, 160, 320, 32, 128, 128),
    "5b": (384, 192, 384, 48, 128, 128),
}


@dataclass(frozen=True)
class _Variant:
    batch_norm: bool  # BN after every conv (torchvision) or conv bias + ReLU (paper)
    lrn: bool  # LRN after pool1 and after conv3 (paper)
    branch3_kernel: int  # the "5x5" branch: 5 in the paper, 3 in torchvision's port
    pool4_kernel: int  # the max pool before 5a: 3x3/2 in the paper, 2x2/2 in torchvision
    aux_paper_pool: bool  # aux heads start with the paper's 5x5/3 average pool
    dropout: float  # before the last FC


PAPER = _Variant(batch_norm=False, lrn=True, branch3_kernel=5, pool4_kernel=3,
                 aux_paper_pool=True, dropout=0.4)
TORCHVISION = _Variant(batch_norm=True, lrn=False, branch3_kernel=3, pool4_kernel=2,
                       aux_paper_pool=False, dropout=0.2)


class Inception(nn.Module):
    """Four parallel branches concatenated: N x cin x H x W -> N x (1x1+3x3+5x5+proj) x H x W."""

    def __init__(self, cin: int, widths: tuple[int, ...], variant: _Variant) -> None:
        super().__init__()
        ch1x1, ch3x3red, ch3x3, ch5x5red, ch5x5, pool_proj = widths
        conv = partial(BasicConv2d, batch_norm=variant.batch_norm)
        k = variant.branch3_kernel
        self.branch1 = conv(cin, ch1x1, 1)
        self.branch2 = nn.Sequential(conv(cin, ch3x3red, 1), conv(ch3x3red, ch3x3, 3, padding=1))
        self.branch3 = nn.Sequential(conv(cin, ch5x5red, 1),
                                     conv(ch5x5red, ch5x5, k, padding=k // 2))
        self.branch4 = nn.Sequential(nn.MaxPool2d(3, stride=1, padding=1, ceil_mode=True),
                                     conv(cin, pool_proj, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        branches = (self.branch1, self.branch2, self.branch3, self.branch4)
        return torch.cat([branch(x) for branch in branches], 1)


# Batch norm and a true 5x5 branch: the small inception nets of models/ablation.py.
BN_5X5 = _Variant(batch_norm=True, lrn=False, branch3_kernel=5, pool4_kernel=3,
                  aux_paper_pool=False, dropout=0.0)


class NaiveInception(nn.Module):
    """The naive module (Szegedy et al. Fig. 2a): 1x1, 3x3 and 5x5 convs and a 3x3 max pool on
    the input, concatenated. N x cin x H x W -> N x (cin + c1 + c3 + c5) x H x W: the pool
    passes all cin channels on, so the depth grows with every module stacked."""

    def __init__(self, cin: int, widths: tuple[int, int, int], variant: _Variant) -> None:
        super().__init__()
        ch1x1, ch3x3, ch5x5 = widths
        conv = partial(BasicConv2d, batch_norm=variant.batch_norm)
        self.branch1 = conv(cin, ch1x1, 1)
        self.branch2 = conv(cin, ch3x3, 3, padding=1)
        self.branch3 = conv(cin, ch5x5, 5, padding=2)
        self.branch4 = nn.MaxPool2d(3, stride=1, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        branches = (self.branch1, self.branch2, self.branch3, self.branch4)
        return torch.cat([branch(x) for branch in branches], 1)


class InceptionAux(nn.Module):
    """Auxiliary classifier: N x cin x 14 x 14 -> pool 4x4 -> 1x1 conv 128 -> FC 1024 -> FC."""

    def __init__(self, cin: int, num_classes: int, variant: _Variant, dropout: float = 0.7) -> None:
        super().__init__()
        self.paper_pool = variant.aux_paper_pool
        self.conv = BasicConv2d(cin, 128, 1, batch_norm=variant.batch_norm)
        self.fc1 = nn.Linear(128 * 4 * 4, 1024)
        self.fc2 = nn.Linear(1024, num_classes)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.paper_pool and min(x.shape[-2:]) >= 5:
            x = F.avg_pool2d(x, 5, stride=3)  # N x cin x 4 x 4 at 224x224 input
        x = F.adaptive_avg_pool2d(x, 4)  # the identity at 224x224 in the paper variant
        x = torch.flatten(self.conv(x), 1)  # N x 2048
        x = self.dropout(F.relu(self.fc1(x), inplace=True))  # N x 1024
        return self.fc2(x)


class GoogLeNet(FcHead, Classifier):
    """Inception v1. ``inception3a`` ... ``inception5b`` are the paper's modules by name."""

    def __init__(self, num_classes: int = 1000, in_channels: int = 3, variant: _Variant = PAPER,
                 aux_logits: bool = True, transform_input: bool = False) -> None:
        super().__init__()
        if transform_input and in_channels != 3:
            raise ValueError("transform_input re-normalizes RGB input; it needs in_channels=3")
        self.in_channels, self.num_classes = in_channels, num_classes
        self.transform_input = transform_input
        conv = partial(BasicConv2d, batch_norm=variant.batch_norm)
        lrn = partial(local_response_norm, 5, 1e-4, 0.75, k=1.0, convention="caffe")
        self.conv1 = conv(in_channels, 64, 7, stride=2, padding=3)
        self.maxpool1 = nn.MaxPool2d(3, stride=2, ceil_mode=True)
        self.lrn1 = lrn() if variant.lrn else nn.Identity()
        self.conv2 = conv(64, 64, 1)
        self.conv3 = conv(64, 192, 3, padding=1)
        self.lrn2 = lrn() if variant.lrn else nn.Identity()
        self.maxpool2 = nn.MaxPool2d(3, stride=2, ceil_mode=True)
        cin = 192
        for name, widths in _TABLE1.items():
            setattr(self, f"inception{name}", Inception(cin, widths, variant))
            cin = widths[0] + widths[2] + widths[4] + widths[5]
        self.maxpool3 = nn.MaxPool2d(3, stride=2, ceil_mode=True)
        self.maxpool4 = nn.MaxPool2d(variant.pool4_kernel, stride=2, ceil_mode=True)
        self.aux1 = InceptionAux(512, num_classes, variant) if aux_logits else None
        self.aux2 = InceptionAux(528, num_classes, variant) if aux_logits else None
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.dropout = nn.Dropout(variant.dropout)
        self.fc = nn.Linear(1024, num_classes)
        self._aux_inputs: list[torch.Tensor] | None = None
        _init_weights(self)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        if self.transform_input:
            x = imagenet_to_half_normalization(x)
        x = self.lrn1(self.maxpool1(self.conv1(x)))  # N x 64 x 56 x 56
        x = self.lrn2(self.conv3(self.conv2(x)))  # N x 192 x 56 x 56
        x = self.maxpool2(x)  # N x 192 x 28 x 28
        x = self.inception3b(self.inception3a(x))  # N x 480 x 28 x 28
        x = self.inception4a(self.maxpool3(x))  # N x 512 x 14 x 14
        self._tap(x)
        x = self.inception4d(self.inception4c(self.inception4b(x)))  # N x 528 x 14 x 14
        self._tap(x)
        x = self.maxpool4(self.inception4e(x))  # N x 832 x 7 x 7
        return self.inception5b(self.inception5a(x))  # N x 1024 x 7 x 7

    def forward_head(self, x: torch.Tensor, pre_logits: bool = False) -> torch.Tensor:
        x = self.dropout(torch.flatten(self.avgpool(x), 1))  # N x 1024
        return x if pre_logits else self.fc(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor | tuple[torch.Tensor, ...]:
        """N x C x H x W -> N x num_classes logits; in training (with aux heads) a tuple
        (main, aux1, aux2) of N x num_classes logits."""
        if not (self.training and self.aux1 is not None):
            return super().forward(x)
        self._aux_inputs = []  # forward_features fills it with the 4a and 4d outputs
        try:
            logits = super().forward(x)
            aux_in1, aux_in2 = self._aux_inputs
        finally:
            self._aux_inputs = None
        return logits, self.aux1(aux_in1), self.aux2(aux_in2)

    def _tap(self, x: torch.Tensor) -> None:
        if self._aux_inputs is not None:
            self._aux_inputs.append(x)

    def aux_classifiers(self) -> list[nn.Module]:
        """The auxiliary heads' last layers (replaced by ``reset_classifier`` too)."""
        return [head.fc2 for head in (self.aux1, self.aux2) if head is not None]

    def reset_classifier(self, num_classes: int) -> None:
        super().reset_classifier(num_classes)
        for head in (self.aux1, self.aux2):
            if head is not None:
                head.fc2 = nn.Linear(head.fc2.in_features, num_classes)


def _init_weights(model: nn.Module) -> None:
    # As the released prototxt: Xavier weights, conv biases 0.2 (BN convs have none), FC 0.
    for m in model.modules():
        if isinstance(m, nn.Conv2d | nn.Linear):
            nn.init.xavier_uniform_(m.weight)
            if m.bias is not None:
                nn.init.constant_(m.bias, 0.2 if isinstance(m, nn.Conv2d) else 0.0)


_SZEGEDY = Paper("Christian Szegedy, Wei Liu, Yangqing Jia, Pierre Sermanet, Scott Reed, "
                 "Dragomir Anguelov, Dumitru Erhan, Vincent Vanhoucke, Andrew Rabinovich", 2014,
                 "Going Deeper with Convolutions", "https://arxiv.org/abs/1409.4842")


@register_model(ModelInfo(
    name="googlenet", full_name="GoogLeNet (Inception v1)", paper=_SZEGEDY, family="googlenet",
    variant="Table 1 with LRN, no batch norm, both auxiliary classifiers (bvlc_googlenet)",
    # Szegedy et al. Table 3: 7 models x 144 crops (the ILSVRC 2014 entry) and 1 model x 1 crop.
    reported={"ilsvrc2014_top5_error": 6.67, "paper_top5_error_1crop": 10.07},
    deviations="Adaptive final average pool and adaptive 4x4 pool in the aux heads (identical "
               "at 224x224); LRN alpha in Caffe's convention.",
))
def googlenet(num_classes: int = 1000, in_channels: int = 3, aux_logits: bool = True
              ) -> GoogLeNet:
    """The paper's GoogLeNet; ``aux_logits=False`` drops the two auxiliary classifiers."""
    return GoogLeNet(num_classes, in_channels, PAPER, aux_logits=aux_logits)


@register_model(ModelInfo(
    name="googlenet_bn", full_name="GoogLeNet with batch norm (torchvision)", paper=_SZEGEDY,
    family="googlenet",
    variant="torchvision's port: batch norm, no LRN, 3x3 in the '5x5' branch, aux heads",
    reported={"torchvision_top1_acc": 69.778, "torchvision_top5_acc": 89.53},
    torchvision="googlenet",
    deviations="Not the paper's: batch norm instead of LRN, 3x3 instead of 5x5 convs, 2x2 pool "
               "before 5a, dropout 0.2 (torchvision's weights need these).",
    # torchvision's weights expect its transform_input=True: ImageNet-normalized input is
    # re-normalized to [-1, 1] inside the model.
    pretrained_options={"transform_input": True},
))
def googlenet_bn(num_classes: int = 1000, in_channels: int = 3, aux_logits: bool = True,
                 transform_input: bool = False) -> GoogLeNet:
    """torchvision.models.googlenet's layout and keys. Build with ``transform_input=True`` for
    torchvision's IMAGENET1K_V1 weights (as torchvision does), which expect 0.5/0.5-normalized
    input."""
    return GoogLeNet(num_classes, in_channels, TORCHVISION, aux_logits=aux_logits,
                     transform_input=transform_input)
