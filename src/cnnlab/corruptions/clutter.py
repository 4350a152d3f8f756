"""Background clutter: the object in front of a busy background instead of a plain one.

On one-channel images (Fashion-MNIST: a bright garment on black) the garment is cut out by
its own brightness and composited onto the background, so the object itself is untouched. On
colour images there is no such mask; the background is blended over the whole image with a
weight at most 0.55, so the object stays legible. Texture is two gratings of random
orientation and frequency (a patterned wall or fabric); noise is pixel noise, lightly
smoothed (sensor grain and foliage-like speckle).
"""

from __future__ import annotations

import math

import torch

from cnnlab.corruptions.base import base_grid, gaussian_blur, level, uniform

CLUTTER = (0.15, 0.25, 0.35, 0.45, 0.55)  # background peak (gray) or blend weight (colour)
FOREGROUND = 0.35  # gray images: intensity from which a pixel counts fully as the object


def composite(x: torch.Tensor, background: torch.Tensor, severity: int) -> torch.Tensor:
    """Place ``x`` (N x C x H x W) in front of ``background`` (same shape, in [0, 1])."""
    strength = level(CLUTTER, severity)
    background = background.to(x.device, x.dtype)
    if x.shape[1] == 1:
        alpha = (x / FOREGROUND).clamp(0, 1)
        return alpha * x + (1 - alpha) * background * strength
    return (1 - strength) * x + strength * background


def _gratings(n: int, c: int, h: int, w: int, gen: torch.Generator) -> torch.Tensor:
    grid = base_grid(n, h, w)
    total = torch.zeros(n, c, h, w)
    for _ in range(2):
        angle = uniform(n * c, 0, math.pi, gen).view(n, c, 1, 1)
        cycles = uniform(n * c, 2, 6, gen).view(n, c, 1, 1)
        phase = uniform(n * c, 0, 2 * math.pi, gen).view(n, c, 1, 1)
        along = (grid[:, None, :, :, 0] * angle.cos() + grid[:, None, :, :, 1] * angle.sin())
        total += torch.sin(along * math.pi * cycles + phase)
    return (total + 2) / 4


def texture(x: torch.Tensor, severity: int, gen: torch.Generator) -> torch.Tensor:
    """The object in front of two crossed gratings (random per image and channel)."""
    n, c, h, w = x.shape
    return composite(x, _gratings(n, c, h, w, gen), severity)


def noise(x: torch.Tensor, severity: int, gen: torch.Generator) -> torch.Tensor:
    """The object in front of uniform pixel noise smoothed over about a pixel."""
    n, c, h, w = x.shape
    field = gaussian_blur(torch.rand(n, c, h, w, generator=gen), 0.7)
    low = field.amin(dim=(1, 2, 3), keepdim=True)
    high = field.amax(dim=(1, 2, 3), keepdim=True)
    return composite(x, (field - low) / (high - low).clamp(min=1e-6), severity)


CORRUPTIONS = {"texture": texture, "noise": noise}
PARAMETERS = {name: ("background peak (gray) or blend weight (colour)", CLUTTER)
              for name in CORRUPTIONS}
