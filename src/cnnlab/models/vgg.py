"""VGG: Simonyan & Zisserman (2014), "Very Deep Convolutional Networks for Large-Scale Image
Recognition", ICLR 2015. Configurations A, A-LRN, B, C, D and E of the paper's Table 1.

``CONFIGS`` below is Table 1, column by column, in the paper's own notation: "conv3-64" is a
3x3 convolution with 64 filters (stride 1, padding 1), "conv1-256" a 1x1 convolution,
"maxpool" a 2x2 max pool with stride 2, "LRN" local response normalization. Every convolution
is followed by a ReLU. The stack ends on 512 x 7 x 7 at 224x224 input; then FC-4096, FC-4096
(each with ReLU and dropout 0.5) and FC-1000.

  name        config   weight layers   torchvision
  vgg11       A        11              vgg11
  vgg11_lrn   A-LRN    11              -
  vgg13       B        13              vgg13
  vgg16_c     C        16              -
  vgg16       D        16              vgg16
  vgg19       E        19              vgg19
  vgg*_bn     A/B/D/E with batch norm after each convolution (torchvision's variants)

Module names follow torchvision (features.N, classifier.N), so its state dicts load unchanged.
Deviations: the ``_bn`` models add batch normalization (Ioffe & Szegedy 2015), which the paper
predates. LRN in A-LRN uses AlexNet's parameters, as the paper says (n=5, k=2, beta=0.75,
alpha=1e-4 in the AlexNet paper's convention). Initialization is torchvision's (Kaiming-normal
convolutions, N(0, 0.01) FC weights); the paper trained A from N(0, 0.01) and started the deeper
nets from A's layers, then notes that Glorot initialization works without that step. An
adaptive 7x7 average pool before FC6 (identity at 224, as in torchvision) admits other sizes.
"""

from __future__ import annotations

from typing import Any

from torch import nn

from cnnlab.models.layers import ConvFCNet, alexnet_lrn, fc_head
from cnnlab.models.registry import ModelInfo, Paper, register_model

VGG_PAPER = Paper(
    authors="Karen Simonyan, Andrew Zisserman",
    year=2014,
    title="Very Deep Convolutional Networks for Large-Scale Image Recognition",
    url="https://arxiv.org/abs/1409.1556",
)

_C3 = "conv3-512"
CONFIGS: dict[str, list[str]] = {
    "A": ["conv3-64", "maxpool", "conv3-128", "maxpool", "conv3-256", "conv3-256", "maxpool",
          _C3, _C3, "maxpool", _C3, _C3, "maxpool"],
    "A-LRN": ["conv3-64", "LRN", "maxpool", "conv3-128", "maxpool", "conv3-256", "conv3-256",
              "maxpool", _C3, _C3, "maxpool", _C3, _C3, "maxpool"],
    "B": ["conv3-64", "conv3-64", "maxpool", "conv3-128", "conv3-128", "maxpool", "conv3-256",
          "conv3-256", "maxpool", _C3, _C3, "maxpool", _C3, _C3, "maxpool"],
    "C": ["conv3-64", "conv3-64", "maxpool", "conv3-128", "conv3-128", "maxpool", "conv3-256",
          "conv3-256", "conv1-256", "maxpool", _C3, _C3, "conv1-512", "maxpool", _C3, _C3,
          "conv1-512", "maxpool"],
    "D": ["conv3-64", "conv3-64", "maxpool", "conv3-128", "conv3-128", "maxpool", "conv3-256",
          "conv3-256", "conv3-256", "maxpool", _C3, _C3, _C3, "maxpool", _C3, _C3, _C3,
          "maxpool"],
    "E": ["conv3-64", "conv3-64", "maxpool", "conv3-128", "conv3-128", "maxpool", "conv3-256",
          "conv3-256", "conv3-256", "conv3-256", "maxpool", _C3, _C3, _C3, _C3, "maxpool", _C3,
          _C3, _C3, _C3, "maxpool"],
}


def make_layers(config: list[str], in_channels: int = 3, batch_norm: bool = False) -> nn.Sequential:
    """The conv stack of one Table 1 column: N x in_channels x H x W -> N x 512 x H/32 x W/32.

    Each "convK-C" gives Conv2d(K x K, padding K // 2) [+ BatchNorm2d] + ReLU, in
    torchvision's order, so the indices N of ``features.N`` match torchvision's.
    """
    layers: list[nn.Module] = []
    channels = in_channels
    for entry in config:
        if entry == "maxpool":
            layers.append(nn.MaxPool2d(2, 2))
        elif entry == "LRN":
            layers.append(alexnet_lrn())
        else:
            kernel, width = (int(part) for part in entry.removeprefix("conv").split("-"))
            layers.append(nn.Conv2d(channels, width, kernel, padding=kernel // 2))
            if batch_norm:
                layers.append(nn.BatchNorm2d(width))
            layers.append(nn.ReLU(inplace=True))
            channels = width
    return nn.Sequential(*layers)


class VGG(ConvFCNet):
    """A VGG configuration (a key of ``CONFIGS``), optionally with batch norm."""

    def __init__(self, config: str, batch_norm: bool = False, num_classes: int = 1000,
                 in_channels: int = 3, dropout: float = 0.5) -> None:
        super().__init__(make_layers(CONFIGS[config], in_channels, batch_norm), 7,
                         fc_head(512 * 7 * 7, num_classes, dropout=dropout),
                         in_channels, num_classes)
        self._init_weights()

    def _init_weights(self) -> None:
        for module in self.modules():
            if isinstance(module, nn.Conv2d):
                nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")
                nn.init.zeros_(module.bias)
            elif isinstance(module, nn.BatchNorm2d):
                nn.init.ones_(module.weight)
                nn.init.zeros_(module.bias)
            elif isinstance(module, nn.Linear):
                nn.init.normal_(module.weight, 0.0, 0.01)
                nn.init.zeros_(module.bias)


# Published results. paper_*: Table 3 of the paper, single-scale test at Q = S = 256,
# ILSVRC-2012 val error (%). torchvision_*: accuracy (%) of torchvision's IMAGENET1K_V1
# weights (a test checks these against torchvision's weight metadata).
_PAPER_ERRORS = {"A": (29.6, 10.4), "A-LRN": (29.7, 10.5), "B": (28.7, 9.9), "C": (28.1, 9.4),
                 "D": (27.0, 8.8), "E": (27.3, 9.0)}
_TORCHVISION_ACC = {"vgg11": (69.02, 88.628), "vgg13": (69.928, 89.246),
                    "vgg16": (71.592, 90.382), "vgg19": (72.376, 90.876),
                    "vgg11_bn": (70.37, 89.81), "vgg13_bn": (71.586, 90.374),
                    "vgg16_bn": (73.36, 91.516), "vgg19_bn": (74.218, 91.842)}
_ENSEMBLE = {"lecture_ilsvrc2014_top5_error_ensemble": 7.3}  # the 7-net submission

def _reported(name: str, config: str, batch_norm: bool) -> dict[str, float]:
    reported: dict[str, float] = {}
    if not batch_norm:
        top1, top5 = _PAPER_ERRORS[config]
        reported.update(paper_ilsvrc2012_val_top1_error=top1, paper_ilsvrc2012_val_top5_error=top5)
    if config in ("D", "E") and not batch_norm:
        reported.update(_ENSEMBLE)
    if name in _TORCHVISION_ACC:
        acc1, acc5 = _TORCHVISION_ACC[name]
        reported.update(torchvision_top1_acc=acc1, torchvision_top5_acc=acc5)
    return reported


def _info(name: str, config: str, batch_norm: bool, shared: bool = True) -> ModelInfo:
    """Metadata of VGG configuration ``config``; ``shared``: torchvision has the model."""
    layers = sum(entry.startswith("conv") for entry in CONFIGS[config]) + 3
    bn = " with batch norm" if batch_norm else ""
    deviations = ["adaptive 7x7 average pool before FC6 (identity at 224)",
                  "torchvision's weight initialization"]
    if batch_norm:
        deviations.insert(0, "batch norm after every convolution (not in the paper)")
    text = "; ".join(deviations)
    return ModelInfo(
        name=name,
        full_name=f"VGG-{layers} (configuration {config}){bn}",
        paper=VGG_PAPER,
        family="vgg",
        variant=f"Table 1, configuration {config}: {layers} weight layers{bn}",
        input_size=(3, 224, 224),
        reported=_reported(name, config, batch_norm),
        torchvision=name if shared else None,
        deviations=text[0].upper() + text[1:] + ".",
    )


@register_model(_info("vgg11", "A", batch_norm=False))
def vgg11(**options: Any) -> VGG:
    """VGG-11, configuration A."""
    return VGG("A", batch_norm=False, **options)


@register_model(_info("vgg11_lrn", "A-LRN", batch_norm=False, shared=False))
def vgg11_lrn(**options: Any) -> VGG:
    """VGG-11, configuration A-LRN."""
    return VGG("A-LRN", batch_norm=False, **options)


@register_model(_info("vgg13", "B", batch_norm=False))
def vgg13(**options: Any) -> VGG:
    """VGG-13, configuration B."""
    return VGG("B", batch_norm=False, **options)


@register_model(_info("vgg16_c", "C", batch_norm=False, shared=False))
def vgg16_c(**options: Any) -> VGG:
    """VGG-16, configuration C."""
    return VGG("C", batch_norm=False, **options)


@register_model(_info("vgg16", "D", batch_norm=False))
def vgg16(**options: Any) -> VGG:
    """VGG-16, configuration D."""
    return VGG("D", batch_norm=False, **options)


@register_model(_info("vgg19", "E", batch_norm=False))
def vgg19(**options: Any) -> VGG:
    """VGG-19, configuration E."""
    return VGG("E", batch_norm=False, **options)


@register_model(_info("vgg11_bn", "A", batch_norm=True))
def vgg11_bn(**options: Any) -> VGG:
    """VGG-11, configuration A with batch norm."""
    return VGG("A", batch_norm=True, **options)


@register_model(_info("vgg13_bn", "B", batch_norm=True))
def vgg13_bn(**options: Any) -> VGG:
    """VGG-13, configuration B with batch norm."""
    return VGG("B", batch_norm=True, **options)


@register_model(_info("vgg16_bn", "D", batch_norm=True))
def vgg16_bn(**options: Any) -> VGG:
    """VGG-16, configuration D with batch norm."""
    return VGG("D", batch_norm=True, **options)


@register_model(_info("vgg19_bn", "E", batch_norm=True))
def vgg19_bn(**options: Any) -> VGG:
    """VGG-19, configuration E with batch norm."""
    return VGG("E", batch_norm=True, **options)
