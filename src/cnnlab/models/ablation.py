"""Small nets that differ in one design choice, for the lecture's experiments.

``stacknet``: a 3x3 stem, then two stages of ``layers`` convolutions of ``kernel`` x ``kernel``
at one width C, each stage followed by a 2x2 max pool, global average pool, FC. One 5x5 and
two stacked 3x3 (or one 7x7 and three 3x3) see the same receptive field; their weights are
25 C^2 vs 18 C^2 (49 C^2 vs 27 C^2) per stage (Simonyan & Zisserman 2015, section 2.3).

``inceptionnet``: a 3x3 stem and a 2x2 max pool, then ``modules`` inception modules, naive
(``reduce=False``: the pool branch passes the input on, so the depth grows) or with 1x1
reductions (``reduce=True``, GoogLeNet's), global average pool, FC (Szegedy et al. 2015,
Fig. 2). The default widths are GoogLeNet's inception (3a) divided by four.

Both use batch norm after every conv (not in the papers) so that each trains at the same
learning rate in a few CPU minutes; that is the only deviation.
"""

from __future__ import annotations

import torch
from torch import nn

from cnnlab.errors import CnnlabError
from cnnlab.models.base import Classifier
from cnnlab.models.googlenet import BN_5X5, Inception, NaiveInception
from cnnlab.models.layers import BasicConv2d, FcHead
from cnnlab.models.registry import ModelInfo, Paper, register_model

_VGG = Paper("Karen Simonyan, Andrew Zisserman", 2014,
             "Very Deep Convolutional Networks for Large-Scale Image Recognition",
             "https://arxiv.org/abs/1409.1556")
_GOOGLENET = Paper("Christian Szegedy et al.", 2014, "Going Deeper with Convolutions",
                   "https://arxiv.org/abs/1409.4842")
# (#1x1, #3x3 reduce, #3x3, #5x5 reduce, #5x5, pool proj): inception (3a) / 4
SMALL_3A = (16, 24, 32, 4, 8, 8)


class StackNet(FcHead, Classifier):
    """N x C_in x H x W -> stem -> block1 -> pool1 -> block2 -> pool2 -> N x num_classes."""

    def __init__(self, num_classes: int = 10, in_channels: int = 1, width: int = 32,
                 kernel: int = 3, layers: int = 1) -> None:
        super().__init__()
        if kernel < 1 or kernel % 2 == 0 or layers < 1 or width < 1:
            raise CnnlabError(f"stacknet needs an odd kernel, layers >= 1 and width >= 1, got "
                              f"kernel={kernel}, layers={layers}, width={width}")
        self.in_channels, self.num_classes = in_channels, num_classes
        self.stem = BasicConv2d(in_channels, width, 3, padding=1)
        self.block1 = self._block(width, kernel, layers)
        self.pool1 = nn.MaxPool2d(2)
        self.block2 = self._block(width, kernel, layers)
        self.pool2 = nn.MaxPool2d(2)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(width, num_classes)

    @staticmethod
    def _block(width: int, kernel: int, layers: int) -> nn.Sequential:
        return nn.Sequential(*[BasicConv2d(width, width, kernel, padding=kernel // 2)
                               for _ in range(layers)])

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        x = self.pool1(self.block1(self.stem(x)))  # N x C x H/2 x W/2
        return self.pool2(self.block2(x))  # N x C x H/4 x W/4

    def forward_head(self, x: torch.Tensor, pre_logits: bool = False) -> torch.Tensor:
        x = torch.flatten(self.avgpool(x), 1)  # N x C
        return x if pre_logits else self.fc(x)


class InceptionNet(FcHead, Classifier):
    """N x C_in x H x W -> stem, pool -> ``modules`` inception modules -> GAP -> FC."""

    def __init__(self, num_classes: int = 10, in_channels: int = 1, width: int = 32,
                 reduce: bool = True, modules: int = 2,
                 widths: tuple[int, ...] = SMALL_3A) -> None:
        super().__init__()
        if modules < 1 or len(widths) != 6:
            raise CnnlabError(f"inceptionnet needs modules >= 1 and six widths, got {modules}, "
                              f"{widths!r}")
        self.in_channels, self.num_classes = in_channels, num_classes
        self.stem = BasicConv2d(in_channels, width, 3, padding=1)
        self.pool = nn.MaxPool2d(2)
        blocks, cin = [], width
        c1, _, c3, _, c5, proj = widths
        for _ in range(modules):
            if reduce:
                blocks.append(Inception(cin, tuple(widths), BN_5X5))
                cin = c1 + c3 + c5 + proj
            else:
                blocks.append(NaiveInception(cin, (c1, c3, c5), BN_5X5))
                cin = cin + c1 + c3 + c5
        self.inception = nn.Sequential(*blocks)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(cin, num_classes)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        return self.inception(self.pool(self.stem(x)))  # N x depth x H/2 x W/2

    def forward_head(self, x: torch.Tensor, pre_logits: bool = False) -> torch.Tensor:
        x = torch.flatten(self.avgpool(x), 1)  # N x depth
        return x if pre_logits else self.fc(x)


@register_model(ModelInfo(
    name="stacknet", full_name="Stacked-filter net (one k x k or several 3x3 per stage)",
    paper=_VGG, family="ablation",
    variant="3x3 stem, 2 stages of `layers` k x k convs at one width, GAP, FC",
    input_size=(1, 28, 28), num_classes=10, dataset="fashion-mnist",
    deviations="A small net for the small-filters experiment; batch norm after every conv."))
def stacknet(num_classes: int = 10, in_channels: int = 1, **options) -> StackNet:
    """Options: width (C), kernel (odd), layers per stage; e.g. kernel=5 vs kernel=3, layers=2."""
    return StackNet(num_classes=num_classes, in_channels=in_channels, **options)


@register_model(ModelInfo(
    name="inceptionnet", full_name="Small inception net (naive or 1x1-reduced modules)",
    paper=_GOOGLENET, family="ablation",
    variant="3x3 stem, pool, 2 inception modules of (3a)/4 widths, GAP, FC",
    input_size=(1, 28, 28), num_classes=10, dataset="fashion-mnist",
    deviations="A small net for the bottleneck experiment; batch norm after every conv."))
def inceptionnet(num_classes: int = 10, in_channels: int = 1, **options) -> InceptionNet:
    """Options: reduce (1x1 reductions, default True), modules, width of the stem, widths."""
    return InceptionNet(num_classes=num_classes, in_channels=in_channels, **options)
