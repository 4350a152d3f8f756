"""VGG-F, VGG-M and VGG-S: Chatfield, Simonyan, Vedaldi & Zisserman (2014), "Return of the
Devil in the Details: Delving Deep into Convolutional Nets", BMVC 2014, Table 1.

  net  conv1                 conv2                 conv3-5             fc6-fc8
  F    64 11x11/4, LRN, p2   256 5x5/1 p2, LRN, p2   256 3x3 x3, p2     4096-4096-1000
  M    96 7x7/2, LRN, p2     256 5x5/2 p1, LRN, p2   512 3x3 x3, p2     4096-4096-1000
  S    96 7x7/2, LRN, p3     256 5x5/1 p0, p2        512 3x3 x3, p3     4096-4096-1000

(pN = max pooling that downsamples by N: 3x3 windows with stride 2 for x2, 3x3 with stride 3
for x3, and 2x2 with stride 2 for VGG-S's second pool.) Input 224x224; every net ends on a
6x6 grid before fc6. Dropout 0.5 on fc6 and fc7.

Where we follow the released models rather than the paper's text, we say so: pooling rounds
up (Caffe's rule, the authors' released Caffe definitions), which yields the 6x6 grid; VGG-S's
conv2 has no padding as in the released VGG_CNN_S definition (Table 1 lists padding 1); with
it the net gives the 2640M operations the lecture's table lists. LRN as in AlexNet
(n=5, k=2, alpha=1e-4 in the paper's convention, beta=0.75), after the ReLU, before pooling.

The lecture's table gives VGG-F 99M parameters: that figure counts fc6 on a 6x6x512 input as in
VGG-M. The paper's VGG-F has 256 maps in conv5, so fc6 sees 6x6x256 and the net has 60.8M
parameters; VGG-M and VGG-S have 102.9M (the table's 103M).
"""

from __future__ import annotations

from torch import nn

from cnnlab.models.layers import ConvFCNet, alexnet_lrn, conv_relu, fc_head
from cnnlab.models.registry import ModelInfo, Paper, register_model

CHATFIELD_PAPER = Paper(
    authors="Ken Chatfield, Karen Simonyan, Andrea Vedaldi, Andrew Zisserman",
    year=2014,
    title="Return of the Devil in the Details: Delving Deep into Convolutional Nets",
    url="https://arxiv.org/abs/1405.3531",
)


def _pool(kernel: int, stride: int) -> nn.MaxPool2d:
    return nn.MaxPool2d(kernel, stride, ceil_mode=True)


def _vgg_f_features(cin: int) -> list[nn.Module]:
    return [*conv_relu(cin, 64, 11, stride=4), alexnet_lrn(), _pool(3, 2),  # N x 64 x 27 x 27
            *conv_relu(64, 256, 5, padding=2), alexnet_lrn(), _pool(3, 2),  # N x 256 x 13 x 13
            *conv_relu(256, 256, 3, padding=1), *conv_relu(256, 256, 3, padding=1),
            *conv_relu(256, 256, 3, padding=1), _pool(3, 2)]  # N x 256 x 6 x 6


def _vgg_m_features(cin: int) -> list[nn.Module]:
    return [*conv_relu(cin, 96, 7, stride=2), alexnet_lrn(), _pool(3, 2),  # N x 96 x 54 x 54
            *conv_relu(96, 256, 5, stride=2, padding=1), alexnet_lrn(),
            _pool(3, 2),  # N x 256 x 13 x 13
            *conv_relu(256, 512, 3, padding=1), *conv_relu(512, 512, 3, padding=1),
            *conv_relu(512, 512, 3, padding=1), _pool(3, 2)]  # N x 512 x 6 x 6


def _vgg_s_features(cin: int) -> list[nn.Module]:
    return [*conv_relu(cin, 96, 7, stride=2), alexnet_lrn(), _pool(3, 3),  # N x 96 x 37 x 37
            *conv_relu(96, 256, 5), _pool(2, 2),  # N x 256 x 17 x 17
            *conv_relu(256, 512, 3, padding=1), *conv_relu(512, 512, 3, padding=1),
            *conv_relu(512, 512, 3, padding=1), _pool(3, 3)]  # N x 512 x 6 x 6


_FEATURES = {"f": (_vgg_f_features, 256), "m": (_vgg_m_features, 512),
             "s": (_vgg_s_features, 512)}


class ChatfieldVGG(ConvFCNet):
    """One of Chatfield et al.'s CNN-F / CNN-M / CNN-S (``kind`` "f", "m" or "s")."""

    def __init__(self, kind: str, num_classes: int = 1000, in_channels: int = 3,
                 dropout: float = 0.5) -> None:
        build, channels = _FEATURES[kind]
        super().__init__(nn.Sequential(*build(in_channels)), 6,
                         fc_head(channels * 6 * 6, num_classes, dropout=dropout),
                         in_channels, num_classes)


_PAPER_ERRORS = {  # Table 2 of the paper: ILSVRC-2012 val top-5 error (%)
    "f": 16.7, "m": 13.7, "s": 13.1,
}
_COMMON = {"paper": CHATFIELD_PAPER, "family": "vgg_chatfield", "input_size": (3, 224, 224)}
_ROUNDING = "Max pooling rounds up (Caffe's rule, as in the authors' released models)"


@register_model(ModelInfo(
    name="vgg_f", full_name="VGG-F (CNN-F, fast)",
    variant="CNN-F of Table 1: 64-256-256-256-256 filters, conv1 11x11/4",
    reported={"paper_ilsvrc2012_val_top5_error": _PAPER_ERRORS["f"]},
    deviations=f"{_ROUNDING}. Parameters 60.8M, not the lecture table's 99M (see docs).",
    **_COMMON,
))
def vgg_f(num_classes: int = 1000, in_channels: int = 3, **options) -> ChatfieldVGG:
    """CNN-F: 60,834,536 parameters, 724M MACs at 224x224."""
    return ChatfieldVGG("f", num_classes=num_classes, in_channels=in_channels, **options)


@register_model(ModelInfo(
    name="vgg_m", full_name="VGG-M (CNN-M, medium)",
    variant="CNN-M of Table 1: 96-256-512-512-512 filters, conv1 7x7/2, conv2 stride 2",
    reported={"paper_ilsvrc2012_val_top5_error": _PAPER_ERRORS["m"]},
    deviations=f"{_ROUNDING}.",
    **_COMMON,
))
def vgg_m(num_classes: int = 1000, in_channels: int = 3, **options) -> ChatfieldVGG:
    """CNN-M: 102,908,520 parameters, 1.68G MACs at 224x224."""
    return ChatfieldVGG("m", num_classes=num_classes, in_channels=in_channels, **options)


@register_model(ModelInfo(
    name="vgg_s", full_name="VGG-S (CNN-S, slow)",
    variant="CNN-S of Table 1: 96-256-512-512-512 filters, conv1 7x7/2, 3x3/3 pooling",
    reported={"paper_ilsvrc2012_val_top5_error": _PAPER_ERRORS["s"]},
    deviations=f"{_ROUNDING}; conv2 unpadded as in the released VGG_CNN_S (Table 1: pad 1).",
    **_COMMON,
))
def vgg_s(num_classes: int = 1000, in_channels: int = 3, **options) -> ChatfieldVGG:
    """CNN-S: 102,908,520 parameters, 2.64G MACs at 224x224."""
    return ChatfieldVGG("s", num_classes=num_classes, in_channels=in_channels, **options)
