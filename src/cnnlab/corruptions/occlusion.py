"""Occlusion: part of the object is hidden behind something else.

Erase hides one rectangle of the severity's share of the image (Cutout: DeVries & Taylor
2017, with a visible grey occluder instead of black, which on Fashion-MNIST would only look
like more background); stripes hide the object behind evenly spaced bars, as behind a fence.
Positions, orientations and phases are random per image; the hidden share is the severity's.
"""

from __future__ import annotations

import math

import torch

from cnnlab.corruptions.base import level, uniform

ERASED = (0.1, 0.2, 0.3, 0.4, 0.5)  # hidden fraction of the image (rectangle)
STRIPED = (0.1, 0.2, 0.3, 0.4, 0.5)  # hidden fraction of the image (bars)
STRIPE_PERIODS = 4  # bars across the image
OCCLUDER = 0.5  # intensity of whatever hides the object: mid grey


def _cover(x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """``x`` with the pixels where ``mask`` N x 1 x H x W is true set to the occluder's grey."""
    return torch.where(mask.to(x.device), torch.full_like(x, OCCLUDER), x)


def erase(x: torch.Tensor, severity: int, gen: torch.Generator) -> torch.Tensor:
    """Hide one rectangle with the image's proportions and the severity's share of its area,
    placed uniformly inside the image."""
    n, _, h, w = x.shape
    side = math.sqrt(level(ERASED, severity))
    ph, pw = max(1, round(h * side)), max(1, round(w * side))
    top = (torch.rand(n, generator=gen) * (h - ph + 1)).long().view(n, 1, 1, 1)
    left = (torch.rand(n, generator=gen) * (w - pw + 1)).long().view(n, 1, 1, 1)
    rows = torch.arange(h).view(1, 1, h, 1)
    cols = torch.arange(w).view(1, 1, 1, w)
    mask = (rows >= top) & (rows < top + ph) & (cols >= left) & (cols < left + pw)
    return _cover(x, mask)


def stripes(x: torch.Tensor, severity: int, gen: torch.Generator) -> torch.Tensor:
    """Hide the image behind ``STRIPE_PERIODS`` horizontal or vertical bars (random per image)
    that together cover the severity's share of it."""
    n, _, h, w = x.shape
    vertical = torch.rand(n, generator=gen) < 0.5
    phase = uniform(n, 0, 1, gen).view(n, 1, 1, 1)
    rows = torch.arange(h, dtype=torch.float32).view(1, 1, h, 1).add(0.5) / h
    cols = torch.arange(w, dtype=torch.float32).view(1, 1, 1, w).add(0.5) / w
    along = torch.where(vertical.view(n, 1, 1, 1), cols.expand(n, 1, h, w),
                        rows.expand(n, 1, h, w))
    mask = torch.remainder(along * STRIPE_PERIODS + phase, 1.0) < level(STRIPED, severity)
    return _cover(x, mask)


CORRUPTIONS = {"erase": erase, "stripes": stripes}
PARAMETERS = {"erase": ("hidden fraction, one grey rectangle", ERASED),
              "stripes": (f"hidden fraction, {STRIPE_PERIODS} grey bars", STRIPED)}
