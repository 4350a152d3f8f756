"""FastNet: a small VGG/ResNet-style network for 28x28 images, built for time-to-accuracy.

After airbench (Jordan 2024, https://github.com/KellerJordan/cifar10-airbench), scaled to
Fashion-MNIST:

  INPUT [1x28x28]
  stem "patch": CONV2/2 -> BN -> ReLU                           [w0x14x14]
    or "conv3-pool": CONV3 -> POOL2 -> BN -> ReLU               [w0x14x14]
  group 1: CONV3 -> POOL2 -> BN -> ReLU -> CONV3 -> BN -> ReLU  [w1x7x7]
  group 2: CONV3 -> POOL2 -> BN -> ReLU -> CONV3 -> BN -> ReLU  [w2x3x3]
  global max pool -> FC (scaled by 1/8)                         [10]

airbench's whitening init of the stem is ``FastNet.whiten_stem`` (the trainer's ``whiten_stem``);
the stem conv is otherwise trained from torch's default init.
Deviations from airbench: a 2x2 stride-2 patch stem, or a 3x3 conv at full resolution pooled
like the groups, instead of airbench's unpadded 2x2 whitening conv; two groups instead of three
(28x28 input), ReLU instead of GELU (GELU costs more on CPU for no accuracy we could measure),
and an optional residual 3x3 conv per group (``residual=True``, the ResNet idea) for longer
schedules.
Pooling right after the first conv of a group (before BN) is airbench's: BN and the activation
then run on a quarter of the pixels.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from cnnlab.errors import CnnlabError
from cnnlab.models.base import Classifier
from cnnlab.models.registry import ModelInfo, Paper, register_model

_AIRBENCH = Paper(
    authors="K. Jordan",
    year=2024,
    title="94% on CIFAR-10 in 3.29 Seconds on a Single GPU",
    url="https://arxiv.org/abs/2404.00498",
)


def _bn(channels: int) -> nn.BatchNorm2d:
    # Momentum 0.4 (vs torch's 0.1): short runs need running stats that follow the weights.
    return nn.BatchNorm2d(channels, momentum=0.4)


STEMS = ("patch", "conv3-pool")
WHITEN_EPS = 5e-4  # airbench's; keeps the rarest directions' gain bounded


def _stem(kind: str, cin: int, cout: int) -> nn.Sequential:
    """N x cin x H x W -> N x cout x H/2 x W/2. "patch": a 2x2 stride-2 conv (each output sees
    its own 4 pixels); "conv3-pool": a 3x3 conv at full resolution, then a 2x2 max pool before BN
    (overlapping windows for about 2x the stem's cost, which is small beside the groups')."""
    if kind == "patch":
        return nn.Sequential(nn.Conv2d(cin, cout, 2, stride=2, bias=False), _bn(cout),
                             nn.ReLU(inplace=True))
    if kind == "conv3-pool":
        return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.MaxPool2d(2),
                             _bn(cout), nn.ReLU(inplace=True))
    raise CnnlabError(f"fastnet stem must be one of {', '.join(STEMS)}, not {kind!r}")


class ConvGroup(nn.Module):
    """conv3 -> maxpool2 -> BN -> ReLU -> conv3 -> BN -> ReLU (+ optional residual conv)."""

    def __init__(self, cin: int, cout: int, residual: bool = False) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, padding=1, bias=False)
        self.pool = nn.MaxPool2d(2)
        self.bn1 = _bn(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1, bias=False)
        self.bn2 = _bn(cout)
        self.act = nn.ReLU(inplace=True)
        self.residual = None
        if residual:
            self.residual = nn.Sequential(nn.Conv2d(cout, cout, 3, padding=1, bias=False),
                                          _bn(cout), nn.ReLU(inplace=True))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.act(self.bn1(self.pool(self.conv1(x))))  # N x cout x H/2 x W/2
        x = self.act(self.bn2(self.conv2(x)))
        return x + self.residual(x) if self.residual is not None else x


class FastNet(Classifier):
    """Patch stem, two conv groups, global max pool and a scaled linear head."""

    def __init__(self, num_classes: int = 10, in_channels: int = 1,
                 widths: tuple[int, int, int] = (32, 64, 128), residual: bool = False,
                 head_scale: float = 0.125, stem: str = "patch", pool_grid: int = 1) -> None:
        super().__init__()
        self.in_channels, self.num_classes = in_channels, num_classes
        w0, w1, w2 = widths
        self.stem = _stem(stem, in_channels, w0)
        self.groups = nn.Sequential(ConvGroup(w0, w1, residual), ConvGroup(w1, w2, residual))
        # pool_grid 1: airbench's global max pool; 3 keeps the 3 x 3 layout of a 28x28 input
        # (the identity there): Fashion-MNIST's garments are centred, so where a feature sits
        # carries information that translation-invariant CIFAR objects do not.
        self.pool = nn.AdaptiveMaxPool2d(pool_grid)
        self.classifier = nn.Linear(w2 * pool_grid * pool_grid, num_classes, bias=False)
        # A small head output keeps the first steps' logits near uniform (airbench's 1/9 scale).
        self.head_scale = head_scale

    @torch.no_grad()
    def whiten_stem(self, images: torch.Tensor, eps: float = WHITEN_EPS) -> None:
        """airbench's whitening init: set the stem conv's filters to the patch covariance's
        leading eigenvectors scaled by 1 / sqrt(eigenvalue + eps), each also negated (so the
        ReLU keeps both signs), and freeze them (``requires_grad`` False).

        ``images``: N x C x H x W, normalized as training batches are. The covariance is over
        every unpadded k x k patch (k the stem's kernel size), uncentred, as airbench's; it is
        summed in chunks of images so memory stays O(chunk). The stem's channel count must be
        even and at most twice the patch size C * k * k.
        """
        conv = self.stem[0]
        k, (out, cin) = conv.kernel_size[0], conv.weight.shape[:2]
        dim = cin * k * k
        if out % 2 or out > 2 * dim or images.ndim != 4 or images.shape[1] != cin:
            raise CnnlabError(f"whiten_stem: a stem of {out} filters over {cin} x {k} x {k} "
                              f"patches needs an even count <= {2 * dim} and N x {cin} x H x W "
                              f"images, got {tuple(images.shape)}")
        cov = torch.zeros(dim, dim, dtype=torch.float64, device=images.device)
        count = 0
        for chunk in images.split(2000):
            patches = F.unfold(chunk.float(), k).transpose(1, 2).reshape(-1, dim)  # P x dim
            cov += (patches.T @ patches).double()
            count += len(patches)
        evals, evecs = torch.linalg.eigh((cov / count).float())  # ascending
        evals, evecs = evals.flip(0)[:out // 2], evecs.flip(1)[:, :out // 2]
        filters = (evecs.T / torch.sqrt(evals + eps).view(-1, 1)).reshape(-1, cin, k, k)
        conv.weight.copy_(torch.cat([filters, -filters]))
        conv.weight.requires_grad_(False)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stem(x)  # N x w0 x H/2 x W/2
        return self.groups(x)  # N x w2 x H/8 x W/8

    def forward_head(self, x: torch.Tensor, pre_logits: bool = False) -> torch.Tensor:
        x = self.pool(x).flatten(1)  # N x w2 * pool_grid^2
        return x if pre_logits else self.classifier(x) * self.head_scale


@register_model(ModelInfo(
    name="fastnet",
    full_name="FastNet (airbench-style net for 28x28 images)",
    paper=_AIRBENCH,
    family="fast",
    variant="2x2/2 stem-32, group(64), group(128), global max pool, FC-10",
    input_size=(1, 28, 28),
    num_classes=10,
    dataset="fashion-mnist",
    deviations="Patch or conv3-pool stem (whitening init optional, whiten_stem) instead of a "
               "2x2 whitening conv; two conv groups; ReLU instead of GELU.",
))
def fastnet(num_classes: int = 10, in_channels: int = 1, **options) -> FastNet:
    """The ``fast`` recipe's network (about 0.28M parameters, 10.4M MACs at 28x28)."""
    return FastNet(num_classes=num_classes, in_channels=in_channels, **options)
