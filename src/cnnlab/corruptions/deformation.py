"""Deformation: the object bends, as cloth, bodies and animals do.

Elastic distortion (Simard, Steinkraus & Platt 2003, "Best practices for convolutional neural
networks applied to visual document analysis"): a random displacement field smoothed by a
Gaussian, so neighbouring pixels move together. The smooth warp is one low-frequency wave
across the image (a fold or a sway) rather than local wrinkles. Amounts are fractions of the
image side, so a 28-pixel and a 224-pixel image deform alike.
"""

from __future__ import annotations

import math

import torch

from cnnlab.corruptions.base import base_grid, displace, gaussian_blur, level, uniform

ELASTIC = (0.02, 0.035, 0.05, 0.065, 0.08)  # RMS displacement per axis, fraction of the side
ELASTIC_SIGMA = 1 / 8  # smoothing of the field, fraction of the side
WARP = (0.03, 0.05, 0.07, 0.09, 0.11)  # wave amplitude, fraction of the side


def elastic(x: torch.Tensor, severity: int, gen: torch.Generator) -> torch.Tensor:
    """Move pixels along a smoothed random field with the severity's RMS displacement (per
    axis, over the image)."""
    n, _, h, w = x.shape
    side = min(h, w)
    noise = torch.randn(n, 2, h, w, generator=gen).to(x.device)
    field = gaussian_blur(noise, max(1.0, side * ELASTIC_SIGMA))
    rms = field.pow(2).mean(dim=(1, 2, 3), keepdim=True).sqrt().clamp(min=1e-8)
    return displace(x, field / rms * (level(ELASTIC, severity) * side))


def warp(x: torch.Tensor, severity: int, gen: torch.Generator) -> torch.Tensor:
    """Displace x by a sine of y and y by a sine of x (one wave across the image, random
    phases), each of the severity's amplitude."""
    n, _, h, w = x.shape
    grid = base_grid(n, h, w)  # x, y in [-1, 1]
    phase = uniform(n * 2, 0, 2 * math.pi, gen).view(n, 1, 1, 2)
    wave = torch.sin(grid.flip(-1) * math.pi + phase)  # dx from y, dy from x
    amplitude = level(WARP, severity) * min(h, w)
    return displace(x, (wave * amplitude).permute(0, 3, 1, 2).to(x.device))


CORRUPTIONS = {"elastic": elastic, "warp": warp}
PARAMETERS = {"elastic": ("RMS displacement per axis, fraction of the side", ELASTIC),
              "warp": ("wave amplitude, fraction of the side", WARP)}
