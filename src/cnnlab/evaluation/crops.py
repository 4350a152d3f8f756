"""Test-time views: centre crop, 10-crop (AlexNet) and multi-scale dense evaluation (VGG).

Scores of the views of an image are averaged as softmax probabilities, as the papers did.

- centre: one view.
- flip: the image and its mirror image (for image files, the centre crop and its mirror).
- flipshift: flip's two views and both moved by one pixel up-left and down-right, black
  uncovered pixels: 6 views (airbench's test-time augmentation; the ``fast`` recipe's).
- 10crop: the four corner crops and the centre crop, and their horizontal flips (Krizhevsky et
  al. 2012, section 4.1). Image files: shorter side resized to ``resize`` then 10 crops of
  ``size`` (torchvision's TenCrop). In-memory datasets (28 or 32 pixel images): the image is
  padded by an eighth of its side (4 pixels at 32, the CIFAR training padding) and the crops
  have the original size.
- multiscale: the whole image (no crop) at each scale, and its flip (Simonyan & Zisserman 2015,
  section 3.2, Q in {256, 384, 512}). Deviation: instead of converting FC layers to convolutions,
  the models' adaptive pooling takes the larger input; for heads with global average pooling
  this is the spatial average of the dense score map, for heads with a fixed-size adaptive pool
  (AlexNet, VGG) it is an approximation.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torchvision.transforms import v2

CROP_MODES = ("center", "flip", "flipshift", "10crop", "multiscale")


def _five_crops(x: torch.Tensor, size: int) -> list[torch.Tensor]:
    h, w = x.shape[-2:]
    top, left = round((h - size) / 2), round((w - size) / 2)
    corners = [(0, 0), (0, w - size), (h - size, 0), (h - size, w - size), (top, left)]
    return [x[..., r:r + size, c:c + size] for r, c in corners]


def ten_crops(x: torch.Tensor, size: int) -> torch.Tensor:
    """x: N x C x H x W -> 10 x N x C x size x size: the corners (top-left, top-right,
    bottom-left, bottom-right) and centre, then the same crops of the mirrored image
    (torchvision's TenCrop order)."""
    return torch.stack(_five_crops(x, size) + _five_crops(x.flip(-1), size))


def padded_ten_crops(x: torch.Tensor) -> torch.Tensor:
    """In-memory images N x C x H x W: pad by H/8 (zeros), 10 crops of H x W."""
    pad = max(1, round(x.shape[-1] / 8))
    return ten_crops(F.pad(x, (pad, pad, pad, pad)), x.shape[-1])


def shifted_flip_views(x: torch.Tensor, shift: int = 1) -> list[torch.Tensor]:
    """Images N x C x H x W (zero = black: uint8 before normalization) -> 6 views of the same
    shape: the images and the images moved by ``shift`` pixels up-left and down-right, each
    followed by its mirror image."""
    padded = F.pad(x, (shift, shift, shift, shift))
    h, w = x.shape[-2:]
    views = [x, padded[..., 2 * shift:, 2 * shift:], padded[..., :h, :w]]
    return [v for view in views for v in (view, view.flip(-1))]


def scaled_views(x: torch.Tensor, scales: list[int]) -> list[torch.Tensor]:
    """Whole images N x C x H x W resized so the shorter side is each scale, and flipped."""
    views = []
    for scale in scales:
        h, w = x.shape[-2:]
        factor = scale / min(h, w)
        size = (max(1, round(h * factor)), max(1, round(w * factor)))
        resized = F.interpolate(x, size=size, mode="bilinear", align_corners=False,
                                antialias=True)
        views += [resized, resized.flip(-1)]
    return views


class _TenCrop:
    """C x H x W -> 10 x C x size x size (a class, so worker processes can pickle it)."""

    def __init__(self, size: int) -> None:
        self.size = size

    def __call__(self, image: torch.Tensor) -> torch.Tensor:
        return ten_crops(image.unsqueeze(0), self.size)[:, 0]


def file_transform(mode: str, size: int, resize: int, scales: list[int]) -> v2.Transform:
    """Per-image transform for image files: uint8 C x H x W -> the view(s) before batching.

    centre: C x size x size; 10crop: 10 x C x size x size; multiscale: the image resized so its
    shorter side is max(scales) (views at the other scales are computed from it per batch of 1).
    """
    if mode in ("center", "flip", "flipshift"):
        return v2.Compose([v2.Resize(resize, antialias=True), v2.CenterCrop(size)])
    if mode == "10crop":
        return v2.Compose([v2.Resize(resize, antialias=True), _TenCrop(size)])
    return v2.Resize(max(scales), antialias=True)
