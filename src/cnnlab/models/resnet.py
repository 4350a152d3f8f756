"""ImageNet ResNets (He et al. 2015), ResNeXts (Xie et al. 2016) and, as a block option,
squeeze-and-excitation (Hu et al. 2017): SE-ResNet, SE-ResNeXt and SENet-154.

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
a squeeze-and-excitation module (reduction 16) on the residual branch before the addition.
The SE models default to Hu et al.'s released Caffe layout (``caffe=True``): stride on the first
1x1 in SE-ResNet bottlenecks and a 3x3 stride-2 ceil-mode max pool without padding; SENet-154 has
a three-conv 3x3 stem, 3x3 projection shortcuts, a halved first 1x1 (``reduce_first=2``) and
dropout 0.2. ``caffe=False`` gives timm's ResNet v1.5 re-implementations (seresnet50, ...).
"""

from __future__ import annotations

import torch
from torch import nn

from cnnlab.models.base import Classifier
from cnnlab.models.layers import FcHead, SqueezeExcite
from cnnlab.models.registry import ModelInfo, Paper, register_model
from cnnlab.models.weights import KEY_MAPS, StateDict


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


# --- registry -------------------------------------------------------------------------------

_HE = Paper("Kaiming He, Xiangyu Zhang, Shaoqing Ren, Jian Sun", 2015,
            "Deep Residual Learning for Image Recognition", "https://arxiv.org/abs/1512.03385")
_XIE = Paper("Saining Xie, Ross Girshick, Piotr Dollar, Zhuowen Tu, Kaiming He", 2016,
             "Aggregated Residual Transformations for Deep Neural Networks",
             "https://arxiv.org/abs/1611.05431")
_HU = Paper("Jie Hu, Li Shen, Samuel Albanie, Gang Sun, Enhua Wu", 2017,
            "Squeeze-and-Excitation Networks", "https://arxiv.org/abs/1709.01507")
_V15 = ("ResNet v1.5 as torchvision: stride 2 on the bottleneck's 3x3 conv (the paper: on the "
        "first 1x1); adaptive global average pool.")
_SE_CAFFE = ("Hu et al.'s released Caffe layout by default (unpadded ceil-mode stem pool; "
             "SE-ResNets stride on the first 1x1); caffe=False gives timm's re-implementation "
             "(padded stem pool, stride on the 3x3).")


def _torchvision_acc(top1: float, top5: float) -> dict[str, float]:
    # torchvision's IMAGENET1K_V1 weights meta["_metrics"] (single 224 crop of a 256 resize).
    return {"torchvision_top1_acc": top1, "torchvision_top5_acc": top5}


def _register_resnet(name: str, full_name: str, paper: Paper, variant: str,
                     reported: dict[str, float], build: dict) -> None:
    info = ModelInfo(name=name, full_name=full_name, paper=paper, family="resnet",
                     variant=variant, reported=reported, torchvision=name, deviations=_V15)

    def builder(num_classes: int = 1000, in_channels: int = 3,
                layers: list[int] | None = None) -> ResNet:
        options = {**build, "layers": layers or build["layers"]}
        return ResNet(num_classes=num_classes, in_channels=in_channels, **options)

    builder.__doc__ = (f"{full_name} ({variant}); torchvision-compatible state dict. "
                       f"``layers`` overrides the blocks per stage (tiny test variants).")
    register_model(info)(builder)


# paper_*_error: He et al. Table 3 (ImageNet val, 10-crop; ResNet-34 with option B shortcuts);
# Xie et al. Table 3 (224 single crop).
for _name, _block, _layers, _paper_err, _tv in (
    ("resnet18", BasicBlock, [2, 2, 2, 2], None, (69.758, 89.078)),
    ("resnet34", BasicBlock, [3, 4, 6, 3], (24.52, 7.46), (73.314, 91.42)),
    ("resnet50", Bottleneck, [3, 4, 6, 3], (22.85, 6.71), (76.13, 92.862)),
    ("resnet101", Bottleneck, [3, 4, 23, 3], (21.75, 6.05), (77.374, 93.546)),
    ("resnet152", Bottleneck, [3, 8, 36, 3], (21.43, 5.71), (78.312, 94.046)),
):
    _depth = _name.removeprefix("resnet")
    _reported = _torchvision_acc(*_tv)
    if _paper_err:
        _reported |= {"paper_top1_error": _paper_err[0], "paper_top5_error": _paper_err[1]}
    if _depth == "152":
        _reported["ilsvrc2015_top5_error"] = 3.57  # the ensemble's test error (the lecture)
    _register_resnet(_name, f"ResNet-{_depth}", _HE,
                     f"{_block.__name__} x {_layers}, projection shortcuts (option B), v1.5",
                     _reported, {"block": _block, "layers": _layers})

_register_resnet("resnext50_32x4d", "ResNeXt-50 (32x4d)", _XIE,
                 "Bottleneck x [3, 4, 6, 3], cardinality 32, width 4 per group (template C)",
                 _torchvision_acc(77.618, 93.698) | {"paper_top1_error": 22.2},
                 {"block": Bottleneck, "layers": [3, 4, 6, 3],
                  "block_args": {"groups": 32, "base_width": 4}})
_register_resnet("resnext101_32x8d", "ResNeXt-101 (32x8d)", _XIE,
                 "Bottleneck x [3, 4, 23, 3], cardinality 32, width 8 per group (template C)",
                 _torchvision_acc(79.312, 94.526),
                 {"block": Bottleneck, "layers": [3, 4, 23, 3],
                  "block_args": {"groups": 32, "base_width": 8}})


def _register_se(name: str, full_name: str, variant: str, reported: dict[str, float],
                 timm_name: str, build: dict, caffe_stride_in_1x1: bool = False) -> None:
    info = ModelInfo(name=name, full_name=full_name, paper=_HU, family="resnet",
                     variant=variant, reported=reported, timm=timm_name, deviations=_SE_CAFFE)

    def builder(num_classes: int = 1000, in_channels: int = 3, caffe: bool = True,
                layers: list[int] | None = None) -> ResNet:
        block_args = {**build.get("block_args", {}), "attn": "se"}
        if caffe_stride_in_1x1:
            block_args["stride_in_1x1"] = caffe
        options = {k: v for k, v in build.items() if k != "block_args"}
        options["layers"] = layers or build["layers"]
        return ResNet(num_classes=num_classes, in_channels=in_channels, block_args=block_args,
                      caffe_pool=caffe, **options)

    builder.__doc__ = (f"{full_name} ({variant}). caffe=True: loads timm's {timm_name}; "
                       f"caffe=False: loads timm's {timm_name.removeprefix('legacy_')}. "
                       f"``layers`` overrides the blocks per stage (tiny test variants).")
    register_model(info)(builder)


# paper_*_error: Hu et al. Table 2 / Table 8 (ImageNet val, single 224 crop).
_register_se("se_resnet50", "SE-ResNet-50", "ResNet-50 with SE (r=16) in every bottleneck",
             {"paper_top1_error": 23.29, "paper_top5_error": 6.62}, "legacy_seresnet50",
             {"block": Bottleneck, "layers": [3, 4, 6, 3]}, caffe_stride_in_1x1=True)
_register_se("se_resnet101", "SE-ResNet-101", "ResNet-101 with SE (r=16) in every bottleneck",
             {"paper_top1_error": 22.38, "paper_top5_error": 6.07}, "legacy_seresnet101",
             {"block": Bottleneck, "layers": [3, 4, 23, 3]}, caffe_stride_in_1x1=True)
_register_se("se_resnext50_32x4d", "SE-ResNeXt-50 (32x4d)",
             "ResNeXt-50 32x4d with SE (r=16) in every bottleneck",
             {"paper_top1_error": 21.10, "paper_top5_error": 5.49}, "legacy_seresnext50_32x4d",
             {"block": Bottleneck, "layers": [3, 4, 6, 3],
              "block_args": {"groups": 32, "base_width": 4}})
_register_se("senet154", "SENet-154",
             "SE-ResNeXt-152 64x4d: 3x3 deep stem, halved first 1x1, 3x3 projection shortcuts, "
             "dropout 0.2",
             {"paper_top1_error": 18.68, "paper_top5_error": 4.47, "ilsvrc2017_top5_error": 2.251},
             "legacy_senet154",
             {"block": Bottleneck, "layers": [3, 8, 36, 3], "deep_stem": True, "down_kernel": 3,
              "dropout": 0.2, "block_args": {"groups": 64, "base_width": 4, "reduce_first": 2}})


_LEGACY_STEM = {"layer0.conv1.": "conv1.0.", "layer0.bn1.": "conv1.1.", "layer0.conv2.": "conv1.3.",
                "layer0.bn2.": "conv1.4.", "layer0.conv3.": "conv1.6.", "layer0.bn3.": "bn1."}


def from_timm_legacy_senet(state: StateDict) -> StateDict:
    """timm's ``legacy_se*`` / ``legacy_senet154`` keys (Cadene's port of Hu et al.'s Caffe
    models) -> ours: ``layer0.*`` -> ``conv1``/``bn1``, ``se_module`` -> ``se``,
    ``last_linear`` -> ``fc``. Other state dicts (timm's non-legacy ones) pass unchanged."""
    if "layer0.conv1.weight" not in state:
        return state
    deep = "layer0.conv3.weight" in state
    stem = _LEGACY_STEM if deep else {"layer0.conv1.": "conv1.", "layer0.bn1.": "bn1."}
    converted = {}
    for key, value in state.items():
        for old, new in (*stem.items(), ("last_linear.", "fc.")):
            if key.startswith(old):
                key = new + key.removeprefix(old)
        converted[key.replace(".se_module.", ".se.")] = value
    return converted


for _name in ("se_resnet50", "se_resnet101", "se_resnext50_32x4d", "senet154"):
    KEY_MAPS[_name] = from_timm_legacy_senet
