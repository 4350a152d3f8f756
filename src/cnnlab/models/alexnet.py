"""AlexNet: Krizhevsky, Sutskever & Hinton (2012), "ImageNet Classification with Deep
Convolutional Neural Networks", NIPS 2012. And torchvision's one-tower variant.

``alexnet`` is the paper's network (section 3.5 and Figure 2), at 227x227 input:

  layer  filters  kernel / stride / pad   groups  then                      output
  conv1  96       11x11 / 4 / 0           1       ReLU, LRN, maxpool 3/2    96 x 27 x 27
  conv2  256      5x5 / 1 / 2             2       ReLU, LRN, maxpool 3/2    256 x 13 x 13
  conv3  384      3x3 / 1 / 1             1       ReLU                      384 x 13 x 13
  conv4  384      3x3 / 1 / 1             2       ReLU                      384 x 13 x 13
  conv5  256      3x3 / 1 / 1             2       ReLU, maxpool 3/2         256 x 6 x 6
  fc6    4096                                     ReLU, dropout 0.5
  fc7    4096                                     ReLU, dropout 0.5
  fc8    1000

Groups of 2 reproduce the paper's two GPUs: conv2, conv4 and conv5 only see the maps on their
own GPU, conv3 and the FC layers see both. 60,965,224 parameters, 724.4M multiply-adds.

Deviations: the paper writes 224x224 input, which gives no whole number of 11x11/4 windows;
227x227 is the size that yields its 55x55 conv1 maps, so we use it. Local response
normalization takes the paper's alpha = 1e-4 (the paper's formula, alpha times the plain sum of
squares; torch's LocalResponseNorm divides by the window size, converted by
``local_response_norm(convention="paper")``). The paper applies LRN after the ReLU and pools
after LRN (section 3.3/3.5); the lecture's slide lists pool before norm as Caffe's CaffeNet
does: we follow the paper. An adaptive average pool to 6x6 before fc6 (as torchvision does)
lets other input sizes through and is the identity at 227x227.

``alexnet_owt`` is torchvision's ``alexnet``: Krizhevsky (2014), "One weird trick for
parallelizing convolutional neural networks", one tower of 64-192-384-256-256 filters, no LRN,
no groups, 224x224 input, dropout before fc6 and fc7. It keeps torchvision's module names
(features.N, classifier.N), so torchvision's state dicts load unchanged.
"""

from __future__ import annotations

from torch import nn

from cnnlab.models.layers import ConvFCNet, alexnet_lrn, conv_relu, fc_head, gaussian_init
from cnnlab.models.registry import ModelInfo, Paper, register_model

ALEXNET_PAPER = Paper(
    authors="Alex Krizhevsky, Ilya Sutskever, Geoffrey E. Hinton",
    year=2012,
    title="ImageNet Classification with Deep Convolutional Neural Networks",
    url="https://papers.nips.cc/paper/4824-imagenet-classification-with-deep-convolutional-"
        "neural-networks",
)
ONE_WEIRD_TRICK = Paper(
    authors="Alex Krizhevsky",
    year=2014,
    title="One weird trick for parallelizing convolutional neural networks",
    url="https://arxiv.org/abs/1404.5997",
)


class AlexNet(ConvFCNet):
    """The 2012 paper's AlexNet (two-GPU grouping, LRN, overlapping pooling), 227x227 input."""

    def __init__(self, num_classes: int = 1000, in_channels: int = 3,
                 dropout: float = 0.5) -> None:
        features = nn.Sequential(
            *conv_relu(in_channels, 96, 11, stride=4), alexnet_lrn(), nn.MaxPool2d(3, 2),
            *conv_relu(96, 256, 5, padding=2, groups=2), alexnet_lrn(), nn.MaxPool2d(3, 2),
            *conv_relu(256, 384, 3, padding=1),
            *conv_relu(384, 384, 3, padding=1, groups=2),
            *conv_relu(384, 256, 3, padding=1, groups=2), nn.MaxPool2d(3, 2),
        )
        super().__init__(features, 6, fc_head(256 * 6 * 6, num_classes, dropout=dropout),
                         in_channels, num_classes)
        # Section 5: N(0, 0.01) weights; biases 1 in conv2, conv4, conv5 and the hidden FC
        # layers (to feed the ReLUs positive inputs early), 0 elsewhere.
        convs = [m for m in self.features if isinstance(m, nn.Conv2d)]
        unit = (convs[1], convs[3], convs[4], self.classifier[0], self.classifier[3])
        gaussian_init(self, 0.01, unit)


class AlexNetOWT(ConvFCNet):
    """torchvision's AlexNet (one tower, no LRN), module for module, 224x224 input."""

    def __init__(self, num_classes: int = 1000, in_channels: int = 3,
                 dropout: float = 0.5) -> None:
        features = nn.Sequential(
            *conv_relu(in_channels, 64, 11, stride=4, padding=2), nn.MaxPool2d(3, 2),
            *conv_relu(64, 192, 5, padding=2), nn.MaxPool2d(3, 2),
            *conv_relu(192, 384, 3, padding=1),
            *conv_relu(384, 256, 3, padding=1),
            *conv_relu(256, 256, 3, padding=1), nn.MaxPool2d(3, 2),
        )
        classifier = nn.Sequential(
            nn.Dropout(dropout), nn.Linear(256 * 6 * 6, 4096), nn.ReLU(inplace=True),
            nn.Dropout(dropout), nn.Linear(4096, 4096), nn.ReLU(inplace=True),
            nn.Linear(4096, num_classes),
        )
        super().__init__(features, 6, classifier, in_channels, num_classes)


@register_model(ModelInfo(
    name="alexnet",
    full_name="AlexNet (two-GPU grouping, LRN)",
    paper=ALEXNET_PAPER,
    family="alexnet",
    variant="The paper's 8-layer net: 96-256-384-384-256 filters, conv2/4/5 in 2 groups, LRN "
            "after conv1 and conv2, overlapping 3x3/2 max pooling, dropout 0.5 in FC6/FC7",
    input_size=(3, 227, 227),
    reported={"paper_ilsvrc2010_test_top1_error": 37.5, "paper_ilsvrc2010_test_top5_error": 17.0,
              "paper_ilsvrc2012_val_top1_error": 40.7, "paper_ilsvrc2012_val_top5_error": 18.2,
              "lecture_ilsvrc2012_top5_error_ensemble": 15.4},
    deviations="227x227 input (the paper's 224 does not give its 55x55 conv1 maps); an "
               "adaptive 6x6 average pool before FC6 (identity at 227) admits other sizes.",
))
def alexnet(num_classes: int = 1000, in_channels: int = 3, **options) -> AlexNet:
    """The 2012 paper's AlexNet: 60,965,224 parameters, 724.4M MACs at 227x227."""
    return AlexNet(num_classes=num_classes, in_channels=in_channels, **options)


@register_model(ModelInfo(
    name="alexnet_owt",
    full_name="AlexNet, one-tower variant (torchvision)",
    paper=ONE_WEIRD_TRICK,
    family="alexnet",
    variant="torchvision's alexnet: 64-192-384-256-256 filters in one tower, no LRN, "
            "dropout before FC6/FC7",
    input_size=(3, 224, 224),
    reported={"torchvision_top1_acc": 56.522, "torchvision_top5_acc": 79.066},
    torchvision="alexnet",
    deviations="None from torchvision's alexnet (same modules and state-dict keys). Versus the "
               "2012 paper: fewer conv1/conv2 filters, no groups, no LRN.",
))
def alexnet_owt(num_classes: int = 1000, in_channels: int = 3, **options) -> AlexNetOWT:
    """torchvision's AlexNet: 61,100,840 parameters, 714M MACs at 224x224."""
    return AlexNetOWT(num_classes=num_classes, in_channels=in_channels, **options)
