"""Network in Network: Lin, Chen & Yan (2013), "Network In Network", ICLR 2014.

The paper defines the mlpconv layer (a convolution followed by 1x1 convolutions, each with a
ReLU: a small MLP slid over the image) and global average pooling in place of FC layers, but
reports its architectures only for CIFAR, SVHN and MNIST. Its ImageNet model is the one the
first author released with the paper ("Network in Network Imagenet Model", Caffe Model Zoo,
nin_imagenet), which we reproduce at its 224x224 crop:

  mlpconv  convolution                 1x1 convs (cccp)   then                  output
  1        96 11x11 / 4 / pad 0        96, 96             maxpool 3/2           96 x 27 x 27
  2        256 5x5 / 1 / pad 2         256, 256           maxpool 3/2           256 x 13 x 13
  3        384 3x3 / 1 / pad 1         384, 384           maxpool 3/2, dropout  384 x 6 x 6
  4        1024 3x3 / 1 / pad 1        1024, num_classes  ReLU, global avg pool num_classes

Every convolution is followed by a ReLU, the class maps included (as in the released model).
7,595,176 parameters (the lecture's 7.6M); 1,100M multiply-adds at 224x224.

Where the paper is ambiguous: the number and width of the mlpconv layers for ImageNet, their
paddings and the dropout placement are not in the paper; they come from the released model.
Its pooling rounds up (Caffe's rule), which gives the 27/13/6 grids above. The lecture's
1168M operations do not follow from this network at 224 (1,100M MACs, 1,102M counting one
add per bias); we found no input size or rounding rule that gives both 7.6M parameters
and 1168M operations, so we keep the released model. Initialization follows the released
model: N(0, 0.01) for conv1, conv3 and the class layer, N(0, 0.05) for the others, biases 0.
"""

from __future__ import annotations

import itertools

import torch
import torch.nn.functional as F
from torch import nn

from cnnlab.models.base import Classifier
from cnnlab.models.registry import ModelInfo, Paper, register_model

NIN_PAPER = Paper(
    authors="Min Lin, Qiang Chen, Shuicheng Yan",
    year=2013,
    title="Network In Network",
    url="https://arxiv.org/abs/1312.4400",
)


def mlpconv(cin: int, widths: tuple[int, ...], kernel: int, stride: int = 1,
            padding: int = 0) -> list[nn.Module]:
    """A k x k convolution to widths[0] maps, then 1x1 convolutions to widths[1:], each + ReLU."""
    layers: list[nn.Module] = [nn.Conv2d(cin, widths[0], kernel, stride, padding),
                               nn.ReLU(inplace=True)]
    for before, after in itertools.pairwise(widths):
        layers += [nn.Conv2d(before, after, 1), nn.ReLU(inplace=True)]
    return layers


class NIN(Classifier):
    """The released ImageNet NIN; ``classifier`` is the last 1x1 convolution (class maps)."""

    def __init__(self, num_classes: int = 1000, in_channels: int = 3,
                 dropout: float = 0.5) -> None:
        super().__init__()
        self.in_channels, self.num_classes = in_channels, num_classes
        pool = {"kernel_size": 3, "stride": 2, "ceil_mode": True}
        self.features = nn.Sequential(
            *mlpconv(in_channels, (96, 96, 96), 11, stride=4), nn.MaxPool2d(**pool),
            *mlpconv(96, (256, 256, 256), 5, padding=2), nn.MaxPool2d(**pool),
            *mlpconv(256, (384, 384, 384), 3, padding=1), nn.MaxPool2d(**pool),
            nn.Dropout(dropout),
            *mlpconv(384, (1024, 1024), 3, padding=1),
        )
        self.classifier = nn.Conv2d(1024, num_classes, 1)
        self.global_pool = nn.AdaptiveAvgPool2d(1)
        self._init_weights()

    def _init_weights(self) -> None:
        convs = [m for m in self.features if isinstance(m, nn.Conv2d)] + [self.classifier]
        narrow = {0, 6, len(convs) - 1}  # conv1, conv3 and the class layer
        for index, conv in enumerate(convs):
            nn.init.normal_(conv.weight, 0.0, 0.01 if index in narrow else 0.05)
            nn.init.zeros_(conv.bias)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        return self.features(x)  # N x 1024 x 6 x 6 at 224

    def forward_head(self, x: torch.Tensor, pre_logits: bool = False) -> torch.Tensor:
        if pre_logits:  # the pooled 1024 features the class layer reads
            return torch.flatten(self.global_pool(x), 1)
        x = F.relu(self.classifier(x))  # N x num_classes x 6 x 6 class maps
        return torch.flatten(self.global_pool(x), 1)


@register_model(ModelInfo(
    name="nin",
    full_name="Network in Network (ImageNet model)",
    paper=NIN_PAPER,
    family="nin",
    variant="The authors' released 4-mlpconv ImageNet model (Caffe Model Zoo nin_imagenet): "
            "96-256-384-1024 filters, global average pooling, no FC layers",
    input_size=(3, 224, 224),
    reported={"modelzoo_ilsvrc2012_val_top1_acc": 59.36},
    deviations="Architecture from the authors' released model (the paper gives none for "
               "ImageNet); 1,100M MACs at 224, not the lecture's 1168M (see docs).",
))
def nin(num_classes: int = 1000, in_channels: int = 3, **options) -> NIN:
    """NIN's ImageNet model: 7,595,176 parameters, 1.10G MACs at 224x224."""
    return NIN(num_classes=num_classes, in_channels=in_channels, **options)
