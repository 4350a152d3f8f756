"""ZFNet: Zeiler & Fergus (2013), "Visualizing and Understanding Convolutional Networks",
arXiv:1311.2901 (ECCV 2014). The network of the paper's Figure 3, at 224x224 input:

  layer  filters  kernel / stride / pad   then                                output
  conv1  96       7x7 / 2 / 1             ReLU, maxpool 3/2, contrast norm    96 x 55 x 55
  conv2  256      5x5 / 2 / 0             ReLU, maxpool 3/2, contrast norm    256 x 13 x 13
  conv3  384      3x3 / 1 / 1             ReLU                                384 x 13 x 13
  conv4  384      3x3 / 1 / 1             ReLU                                384 x 13 x 13
  conv5  256      3x3 / 1 / 1             ReLU, maxpool 3/2                   256 x 6 x 6
  fc6    4096                             ReLU, dropout 0.5
  fc7    4096                             ReLU, dropout 0.5
  fc8    1000

It is AlexNet with conv1 at 7x7 stride 2 instead of 11x11 stride 4, and dense connections
where AlexNet had two groups (the paper trains on one GPU). ``zfnet`` is this network, the
paper's model. ``zfnet_wide`` is the variant of the paper's Table 2 with 512, 1024 and 512
filters in conv3, conv4 and conv5, the one the lecture's slide describes.

Where the paper is silent we choose, and say so: Figure 3 gives map sizes, not paddings or
rounding; conv1 padding 1 and pooling with ceil rounding (Caffe's rule) reproduce its sizes
110, 55, 26, 13, 13, 13, 6 exactly. The "contrast normalization across feature maps" has no
parameters in the paper; we use AlexNet's LRN (n=5, k=2, alpha=1e-4 paper convention,
beta=0.75). Layers are normalized after pooling, in Figure 3's order. The paper's RMS
renormalization of conv filters (radius 0.1) is a training rule, not part of the module.
"""

from __future__ import annotations

from torch import nn

from cnnlab.models.layers import ConvFCNet, alexnet_lrn, conv_relu, fc_head, gaussian_init
from cnnlab.models.registry import ModelInfo, Paper, register_model

ZFNET_PAPER = Paper(
    authors="Matthew D. Zeiler, Rob Fergus",
    year=2013,
    title="Visualizing and Understanding Convolutional Networks",
    url="https://arxiv.org/abs/1311.2901",
)


class ZFNet(ConvFCNet):
    """Zeiler & Fergus's network; ``widths`` are the filters of conv3, conv4 and conv5."""

    def __init__(self, num_classes: int = 1000, in_channels: int = 3,
                 widths: tuple[int, int, int] = (384, 384, 256), dropout: float = 0.5) -> None:
        c3, c4, c5 = widths
        features = nn.Sequential(
            *conv_relu(in_channels, 96, 7, stride=2, padding=1),  # N x 96 x 110 x 110
            nn.MaxPool2d(3, 2, ceil_mode=True), alexnet_lrn(),  # N x 96 x 55 x 55
            *conv_relu(96, 256, 5, stride=2),  # N x 256 x 26 x 26
            nn.MaxPool2d(3, 2, ceil_mode=True), alexnet_lrn(),  # N x 256 x 13 x 13
            *conv_relu(256, c3, 3, padding=1),
            *conv_relu(c3, c4, 3, padding=1),
            *conv_relu(c4, c5, 3, padding=1),
            nn.MaxPool2d(3, 2, ceil_mode=True),  # N x c5 x 6 x 6
        )
        super().__init__(features, 6, fc_head(c5 * 6 * 6, num_classes, dropout=dropout),
                         in_channels, num_classes)
        gaussian_init(self, 0.01)  # section 3: weights 1e-2, biases 0


_DEVIATIONS = ("Paddings and ceil-rounded pooling chosen to reproduce Figure 3's map sizes; "
               "contrast normalization = AlexNet's LRN; adaptive 6x6 average pool before FC6 "
               "(identity at 224) admits other sizes.")


@register_model(ModelInfo(
    name="zfnet",
    full_name="ZFNet (Zeiler & Fergus, Figure 3)",
    paper=ZFNET_PAPER,
    family="zfnet",
    variant="The paper's model (Fig. 3): conv1 96 7x7/2, conv2 256 5x5/2, conv3-5 384-384-256",
    input_size=(3, 224, 224),
    reported={"paper_ilsvrc2012_val_top1_error": 38.3, "paper_ilsvrc2012_val_top5_error": 16.4,
              "paper_ilsvrc2012_test_top5_error": 16.5},
    deviations=_DEVIATIONS,
))
def zfnet(num_classes: int = 1000, in_channels: int = 3, **options) -> ZFNet:
    """Zeiler & Fergus's network of Figure 3 (62.4M parameters, 1.17G MACs at 224x224)."""
    return ZFNet(num_classes=num_classes, in_channels=in_channels, **options)


@register_model(ModelInfo(
    name="zfnet_wide",
    full_name="ZFNet with 512-1024-512 filters in conv3-conv5",
    paper=ZFNET_PAPER,
    family="zfnet",
    variant="Table 2's variant (b): Fig. 3 with conv3, conv4, conv5 of 512, 1024, 512 filters "
            "(the lecture's ZFNet slide)",
    input_size=(3, 224, 224),
    reported={"lecture_ilsvrc2013_top5_error": 11.7},
    deviations=_DEVIATIONS,
))
def zfnet_wide(num_classes: int = 1000, in_channels: int = 3, **options) -> ZFNet:
    """ZFNet with conv3-conv5 widened to 512, 1024, 512 filters."""
    return ZFNet(num_classes=num_classes, in_channels=in_channels, widths=(512, 1024, 512),
                 **options)
