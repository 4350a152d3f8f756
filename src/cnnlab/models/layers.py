"""Building blocks shared by several families, by concept.

  ConvFCNet, conv_relu, fc_head, gaussian_init   AlexNet's conv-stack / FC-stack layout, reused
                                                 by ZFNet, VGG-F/M/S and VGG
  local_response_norm, alexnet_lrn               local response normalization
  SqueezeExcite                                  squeeze-and-excitation (SE-ResNets)
  BasicConv2d                                    conv -> batch norm -> ReLU (Inception families)
  FcHead                                         a classifier held in ``self.fc``
  imagenet_to_half_normalization                 the input transform Google's weights expect
"""

from __future__ import annotations

import torch
from torch import nn

from cnnlab.models.base import Classifier


def local_response_norm(size: int = 5, alpha: float = 1e-4, beta: float = 0.75, k: float = 2.0,
                        convention: str = "paper") -> nn.LocalResponseNorm:
    """Local response normalization across channels (Krizhevsky et al. 2012, section 3.3).

    The AlexNet paper writes b = a / (k + alpha * sum(a^2))^beta over ``size`` neighbouring
    channels. torch (like Caffe) divides alpha by ``size``. ``convention="paper"`` takes alpha as
    the paper writes it and converts; ``"caffe"`` passes it through (Caffe prototxt values,
    e.g. GoogLeNet's).
    """
    if convention not in ("paper", "caffe"):
        raise ValueError(f"unknown LRN convention {convention!r}")
    torch_alpha = alpha * size if convention == "paper" else alpha
    return nn.LocalResponseNorm(size=size, alpha=torch_alpha, beta=beta, k=k)


def alexnet_lrn() -> nn.LocalResponseNorm:
    """AlexNet's normalization: k=2, n=5, alpha=1e-4, beta=0.75 in the paper's convention."""
    return local_response_norm(size=5, alpha=1e-4, beta=0.75, k=2.0, convention="paper")


class ConvFCNet(Classifier):
    """AlexNet's layout, shared by ZFNet, VGG-F/M/S and VGG: conv stack, pool, FC stack.

    ``features`` maps N x C_in x H x W to N x C x h x w; ``avgpool`` (adaptive, to the grid the
    FC layers were sized for) makes any h x w fit; ``classifier`` maps the flattened grid to
    N x num_classes. Attribute names follow torchvision so its state dicts load.
    """

    def __init__(self, features: nn.Sequential, grid: int, classifier: nn.Sequential,
                 in_channels: int, num_classes: int) -> None:
        super().__init__()
        self.in_channels, self.num_classes = in_channels, num_classes
        self.features = features
        self.avgpool = nn.AdaptiveAvgPool2d(grid)
        self.classifier = classifier

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """N x C_in x H x W images -> the conv stack's N x C x h x w feature map."""
        return self.features(x)

    def forward_head(self, x: torch.Tensor, pre_logits: bool = False) -> torch.Tensor:
        """Feature map -> N x num_classes logits, or the last FC layer's input if ``pre_logits``."""
        x = torch.flatten(self.avgpool(x), 1)  # N x C*grid*grid
        return self.classifier[:-1](x) if pre_logits else self.classifier(x)


def conv_relu(cin: int, cout: int, kernel: int, stride: int = 1, padding: int = 0,
              groups: int = 1) -> list[nn.Module]:
    """A convolution (with bias) and its in-place ReLU."""
    return [nn.Conv2d(cin, cout, kernel, stride, padding, groups=groups), nn.ReLU(inplace=True)]


def fc_head(in_features: int, num_classes: int, hidden: int = 4096,
            dropout: float = 0.5) -> nn.Sequential:
    """FC6-ReLU-dropout, FC7-ReLU-dropout, FC8: N x in_features -> N x num_classes.

    Dropout on the outputs of FC6 and FC7, as the AlexNet paper, Caffe and torchvision's VGG do.
    """
    return nn.Sequential(
        nn.Linear(in_features, hidden), nn.ReLU(inplace=True), nn.Dropout(dropout),
        nn.Linear(hidden, hidden), nn.ReLU(inplace=True), nn.Dropout(dropout),
        nn.Linear(hidden, num_classes),
    )


def gaussian_init(model: nn.Module, std: float = 0.01,
                  unit_bias: tuple[nn.Module, ...] = ()) -> None:
    """Weights ~ N(0, std^2), biases 0, or 1 for the layers in ``unit_bias`` (AlexNet sec. 5)."""
    for module in model.modules():
        if isinstance(module, nn.Conv2d | nn.Linear):
            nn.init.normal_(module.weight, 0.0, std)
            nn.init.constant_(module.bias, 1.0 if module in unit_bias else 0.0)


class SqueezeExcite(nn.Module):
    """Squeeze-and-excitation (Hu et al. 2017, Fig. 2): channel weights from a pooled descriptor.

    N x C x H x W -> global mean (N x C x 1 x 1) -> 1x1 conv C/r -> ReLU -> 1x1 conv C -> sigmoid
    -> rescale the input channels. 1x1 convs with bias (not Linear) so the keys ``fc1``/``fc2``
    match timm's SE-ResNets.
    """

    def __init__(self, channels: int, reduction: int = 16) -> None:
        super().__init__()
        self.fc1 = nn.Conv2d(channels, channels // reduction, kernel_size=1)
        self.relu = nn.ReLU(inplace=True)
        self.fc2 = nn.Conv2d(channels // reduction, channels, kernel_size=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """N x C x H x W -> the same shape, each channel scaled by its gate in (0, 1)."""
        scale = self.fc2(self.relu(self.fc1(x.mean((2, 3), keepdim=True))))
        return x * scale.sigmoid()


class FcHead:
    """Mixin for Classifiers whose last layer is ``self.fc`` (torchvision's name, kept for keys)."""

    fc: nn.Linear
    num_classes: int

    def get_classifier(self) -> nn.Module:
        """The last layer, ``self.fc``."""
        return self.fc

    def reset_classifier(self, num_classes: int) -> None:
        """Replace ``self.fc`` with a freshly initialized layer for ``num_classes`` classes."""
        self.fc = nn.Linear(self.fc.in_features, num_classes)
        self.num_classes = num_classes


class BasicConv2d(nn.Module):
    """Conv -> (batch norm) -> ReLU, named as torchvision's / timm's Inception blocks
    (``conv``, ``bn``) so their state dicts load. Without batch norm the conv has a bias."""

    def __init__(self, cin: int, cout: int, kernel_size: int | tuple[int, int], stride: int = 1,
                 padding: int | tuple[int, int] = 0, batch_norm: bool = True) -> None:
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, kernel_size, stride=stride, padding=padding,
                              bias=not batch_norm)
        # eps 1e-3 as TensorFlow's batch norm, where these weights were first trained.
        self.bn = nn.BatchNorm2d(cout, eps=1e-3) if batch_norm else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """N x C_in x H x W -> N x C_out x H' x W' (conv, then batch norm if any, then ReLU)."""
        x = self.conv(x)
        return torch.relu(x if self.bn is None else self.bn(x))


def imagenet_to_half_normalization(x: torch.Tensor) -> torch.Tensor:
    """Re-normalize N x 3 x H x W input from ImageNet mean/std to mean 0.5, std 0.5 per channel.

    Google's GoogLeNet / Inception-v3 weights in torchvision expect the latter; torchvision's
    ``transform_input=True`` does this inside the model.
    """
    # Per channel with Python-float constants, the same arithmetic as torchvision's, so that
    # outputs match it bit for bit (a deep net amplifies rounding differences of the input).
    mean, std = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)
    return torch.cat([x[:, c:c + 1] * (std[c] / 0.5) + (mean[c] - 0.5) / 0.5 for c in range(3)], 1)
