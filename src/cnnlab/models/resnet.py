"""ImageNet ResNets (He et al. 2015), ResNeXts (Xie et al. 2016) and, as a block option,
squeeze-and-excitation (Hu et al. 2017), whose models senet.py registers.

He et al., "Deep Residual Learning for Image Recognition", Table 1 (output sizes at 224x224):

  layer    output   18        34        50          101         152
  conv1    112x112  7x7, 64, stride 2
  pool     56x56    3x3 max pool, stride 2
  conv2_x  56x56    basic x2  basic x3  bottle x3   bottle x3   bottle x3    (64 / 256 channels)
  conv3_x  28x28    basic x2  basic x4  bottle x4   bottle x4   bottle x8    (128 / 512)
  conv4_x  14x14    basic x2  basic x6  bottle x6   bottle x23  bottle x36   (256 / 1024)
  conv5_x  7x7      basic x2  basic x3  bottle x3   bottle x3   bottle x3    (512 / 2048)
           1x1      global average pool, 1000-d FC

basic = [3x3, w; 3x3, w], bottle = [1x1, w; 3x3, w; 1x1, 4w]. Modules are named as torchvision's
(conv1, bn1, layer1.0.conv1, ..., fc: ``layerK`` is the paper's conv(K+1)_x) so its state dicts
load unchanged.

Deviations, all as torchvision does: ResNet "v1.5" puts the stride-2 of a bottleneck on the 3x3
conv (the paper and its Caffe models put it on the first 1x1); projection shortcuts (option B)
where the shape changes; a global *adaptive* average pool so any input size >= 33 works.

ResNeXt (Xie et al. Table 1): the bottleneck's 3x3 is a grouped conv (cardinality 32) of width
``planes * base_width / 64 * groups``. SE (Hu et al. Fig. 3): ``block_args=dict(attn="se")`` adds
a squeeze-and-excitation module (reduction 16) on the residual branch before the addition. The
options the SE models' released layout needs (stride on the first 1x1, Caffe's stem pool, deep
stem, 3x3 shortcuts, halved first 1x1, dropout) are arguments of ``ResNet`` and ``Bottleneck``;
senet.py builds the models from them.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from cnnlab.models.base import Classifier
from cnnlab.models.layers import FcHead, SqueezeExcite
from cnnlab.models.registry import ModelInfo, Paper, register_model


def _conv(cin: int, cout: int, kernel: int, stride: int = 1, groups: int = 1) -> nn.Conv2d:
    return nn.Conv2d(cin, cout, kernel, stride=stride, padding=kernel // 2, groups=groups,
                     bias=False)


class BasicBlock(nn.Module):
    """Two 3x3 convs (ResNet-18/34): N x inplanes x H x W -> N x planes x H/stride x W/stride."""

    expansion = 1

    def __init__(self, inplanes: int, planes: int, stride: int = 1,
                 downsample: nn.Module | None = None, attn: str | None = None) -> None:
        super().__init__()
        self.conv1, self.bn1 = _conv(inplanes, planes, 3, stride), nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2, self.bn2 = _conv(planes, planes, 3), nn.BatchNorm2d(planes)
        self.se = _attention(attn, planes)
        self.downsample = downsample

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        if self.se is not None:
            out = self.se(out)
        shortcut = x if self.downsample is None else self.downsample(x)
        return self.relu(out + shortcut)


class Bottleneck(nn.Module):
    """1x1 reduce, 3x3 (grouped for ResNeXt), 1x1 expand x4 (ResNet-50 and deeper).

    ``stride_in_1x1`` moves the stride to the first 1x1 (the paper / Caffe layout);
    ``reduce_first`` divides the first 1x1's width (2 in SENet-154).
    """

    expansion = 4

    def __init__(self, inplanes: int, planes: int, stride: int = 1,
                 downsample: nn.Module | None = None, groups: int = 1, base_width: int = 64,
                 attn: str | None = None, stride_in_1x1: bool = False,
                 reduce_first: int = 1) -> None:
        super().__init__()
        width = int(planes * base_width / 64) * groups
        first = width // reduce_first
        stride1, stride3 = (stride, 1) if stride_in_1x1 else (1, stride)
        self.conv1, self.bn1 = _conv(inplanes, first, 1, stride1), nn.BatchNorm2d(first)
        self.conv2 = _conv(first, width, 3, stride3, groups)
        self.bn2 = nn.BatchNorm2d(width)
        self.conv3 = _conv(width, planes * self.expansion, 1)
        self.bn3 = nn.BatchNorm2d(planes * self.expansion)
        self.relu = nn.ReLU(inplace=True)
        self.se = _attention(attn, planes * self.expansion)
        self.downsample = downsample

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        if self.se is not None:
            out = self.se(out)
        shortcut = x if self.downsample is None else self.downsample(x)
        return self.relu(out + shortcut)


def _attention(attn: str | None, channels: int) -> nn.Module | None:
    if attn is None:
        return None
    if attn == "se":
        return SqueezeExcite(channels, reduction=16)
    raise ValueError(f"unknown block attention {attn!r} (known: 'se')")


class ResNet(FcHead, Classifier):
    """Stem, four stages of residual blocks, global average pool, FC.

    Args:
        block: BasicBlock or Bottleneck.
        layers: blocks per stage (the paper's conv2_x ... conv5_x), e.g. [3, 4, 6, 3].
        block_args: options every block receives (groups, base_width, attn, stride_in_1x1,
            reduce_first).
        deep_stem: three 3x3 convs (64, 64, 128) instead of one 7x7 (SENet-154).
        caffe_pool: the stem's max pool as in Caffe (no padding, ceil mode) instead of padded.
        down_kernel: kernel of the projection shortcuts of stages 2-4 (1, or 3 in SENet-154).
        dropout: before the FC (0.2 in SENet-154).
    """

    def __init__(self, block: type[BasicBlock | Bottleneck], layers: list[int],
                 num_classes: int = 1000, in_channels: int = 3, block_args: dict | None = None,
                 deep_stem: bool = False, caffe_pool: bool = False, down_kernel: int = 1,
                 dropout: float = 0.0) -> None:
        super().__init__()
        self.in_channels, self.num_classes = in_channels, num_classes
        self.inplanes = 128 if deep_stem else 64
        if deep_stem:
            self.conv1 = nn.Sequential(
                _conv(in_channels, 64, 3, 2), nn.BatchNorm2d(64), nn.ReLU(inplace=True),
                _conv(64, 64, 3), nn.BatchNorm2d(64), nn.ReLU(inplace=True), _conv(64, 128, 3))
        else:
            self.conv1 = _conv(in_channels, 64, 7, 2)
        self.bn1 = nn.BatchNorm2d(self.inplanes)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = (nn.MaxPool2d(3, 2, ceil_mode=True) if caffe_pool
                        else nn.MaxPool2d(3, 2, padding=1))
        args = block_args or {}
        self.layer1 = self._make_stage(block, 64, layers[0], 1, 1, args)
        self.layer2 = self._make_stage(block, 128, layers[1], 2, down_kernel, args)
        self.layer3 = self._make_stage(block, 256, layers[2], 2, down_kernel, args)
        self.layer4 = self._make_stage(block, 512, layers[3], 2, down_kernel, args)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.dropout = nn.Dropout(dropout) if dropout else nn.Identity()
        self.fc = nn.Linear(512 * block.expansion, num_classes)
        self._init_weights()

    def _make_stage(self, block: type[BasicBlock | Bottleneck], planes: int, blocks: int,
                    stride: int, down_kernel: int, args: dict) -> nn.Sequential:
        downsample = None
        if stride != 1 or self.inplanes != planes * block.expansion:
            downsample = nn.Sequential(
                _conv(self.inplanes, planes * block.expansion, down_kernel, stride),
                nn.BatchNorm2d(planes * block.expansion))
        stage = [block(self.inplanes, planes, stride, downsample, **args)]
        self.inplanes = planes * block.expansion
        stage += [block(self.inplanes, planes, **args) for _ in range(1, blocks)]
        return nn.Sequential(*stage)

    def _init_weights(self) -> None:
        # He et al.'s initialization (their ref. [13]) on convs; BN starts as the identity.
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))  # N x 64 x 56 x 56 (128 deep stem)
        x = self.layer1(x)  # N x 64 (basic) or 256 (bottleneck) x 56 x 56
        x = self.layer2(x)  # N x 128 / 512 x 28 x 28
        x = self.layer3(x)  # N x 256 / 1024 x 14 x 14
        return self.layer4(x)  # N x 512 / 2048 x 7 x 7

    def forward_head(self, x: torch.Tensor, pre_logits: bool = False) -> torch.Tensor:
        x = self.dropout(torch.flatten(self.avgpool(x), 1))  # N x 512 / 2048
        return x if pre_logits else self.fc(x)


_HE = Paper("Kaiming He, Xiangyu Zhang, Shaoqing Ren, Jian Sun", 2015,
            "Deep Residual Learning for Image Recognition", "https://arxiv.org/abs/1512.03385")
_XIE = Paper("Saining Xie, Ross Girshick, Piotr Dollar, Zhuowen Tu, Kaiming He", 2016,
             "Aggregated Residual Transformations for Deep Neural Networks",
             "https://arxiv.org/abs/1611.05431")
_V15 = ("ResNet v1.5 as torchvision: stride 2 on the bottleneck's 3x3 conv (the paper: on the "
        "first 1x1); adaptive global average pool.")
_OPTION_B = "projection shortcuts (option B), v1.5"


def _torchvision_acc(top1: float, top5: float) -> dict[str, float]:
    # torchvision's IMAGENET1K_V1 weights meta["_metrics"] (single 224 crop of a 256 resize).
    return {"torchvision_top1_acc": top1, "torchvision_top5_acc": top5}


def _paper_error(top1: float, top5: float) -> dict[str, float]:
    # He et al. Table 3 (ImageNet val, 10-crop; ResNet-34 with option B shortcuts).
    return {"paper_top1_error": top1, "paper_top5_error": top5}


def _info(name: str, full_name: str, paper: Paper, variant: str,
          reported: dict[str, float]) -> ModelInfo:
    return ModelInfo(name=name, full_name=full_name, paper=paper, family="resnet",
                     variant=variant, reported=reported, torchvision=name, deviations=_V15)


def _resnet(block: type[BasicBlock | Bottleneck], stage_blocks: list[int],
            block_args: dict | None = None, /, num_classes: int = 1000, in_channels: int = 3,
            layers: list[int] | None = None) -> ResNet:
    """A torchvision-compatible ResNet; ``layers`` overrides the blocks per stage (tiny test
    variants)."""
    return ResNet(block, layers or stage_blocks, num_classes=num_classes,
                  in_channels=in_channels, block_args=block_args)


@register_model(_info("resnet18", "ResNet-18", _HE, f"BasicBlock x [2, 2, 2, 2], {_OPTION_B}",
                      _torchvision_acc(69.758, 89.078)))
def resnet18(**options: Any) -> ResNet:
    """ResNet-18: basic blocks [2, 2, 2, 2]."""
    return _resnet(BasicBlock, [2, 2, 2, 2], **options)


@register_model(_info("resnet34", "ResNet-34", _HE, f"BasicBlock x [3, 4, 6, 3], {_OPTION_B}",
                      _torchvision_acc(73.314, 91.42) | _paper_error(24.52, 7.46)))
def resnet34(**options: Any) -> ResNet:
    """ResNet-34: basic blocks [3, 4, 6, 3]."""
    return _resnet(BasicBlock, [3, 4, 6, 3], **options)


@register_model(_info("resnet50", "ResNet-50", _HE, f"Bottleneck x [3, 4, 6, 3], {_OPTION_B}",
                      _torchvision_acc(76.13, 92.862) | _paper_error(22.85, 6.71)))
def resnet50(**options: Any) -> ResNet:
    """ResNet-50: bottlenecks [3, 4, 6, 3]."""
    return _resnet(Bottleneck, [3, 4, 6, 3], **options)


@register_model(_info("resnet101", "ResNet-101", _HE,
                      f"Bottleneck x [3, 4, 23, 3], {_OPTION_B}",
                      _torchvision_acc(77.374, 93.546) | _paper_error(21.75, 6.05)))
def resnet101(**options: Any) -> ResNet:
    """ResNet-101: bottlenecks [3, 4, 23, 3]."""
    return _resnet(Bottleneck, [3, 4, 23, 3], **options)


@register_model(_info("resnet152", "ResNet-152", _HE,
                      f"Bottleneck x [3, 8, 36, 3], {_OPTION_B}",
                      _torchvision_acc(78.312, 94.046) | _paper_error(21.43, 5.71)
                      | {"ilsvrc2015_top5_error": 3.57}))  # the ensemble's test error (lecture)
def resnet152(**options: Any) -> ResNet:
    """ResNet-152: bottlenecks [3, 8, 36, 3]."""
    return _resnet(Bottleneck, [3, 8, 36, 3], **options)


# paper_top1_error: Xie et al. Table 3 (224 single crop).
@register_model(_info("resnext50_32x4d", "ResNeXt-50 (32x4d)", _XIE,
                      "Bottleneck x [3, 4, 6, 3], cardinality 32, width 4 per group (template C)",
                      _torchvision_acc(77.618, 93.698) | {"paper_top1_error": 22.2}))
def resnext50_32x4d(**options: Any) -> ResNet:
    """ResNeXt-50 32x4d: bottlenecks [3, 4, 6, 3] with 32 groups of width 4."""
    return _resnet(Bottleneck, [3, 4, 6, 3], {"groups": 32, "base_width": 4}, **options)


@register_model(_info("resnext101_32x8d", "ResNeXt-101 (32x8d)", _XIE,
                      "Bottleneck x [3, 4, 23, 3], cardinality 32, width 8 per group (template C)",
                      _torchvision_acc(79.312, 94.526)))
def resnext101_32x8d(**options: Any) -> ResNet:
    """ResNeXt-101 32x8d: bottlenecks [3, 4, 23, 3] with 32 groups of width 8."""
    return _resnet(Bottleneck, [3, 4, 23, 3], {"groups": 32, "base_width": 8}, **options)
