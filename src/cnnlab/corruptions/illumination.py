"""Illumination: the same object under more, less, flatter or uneven light.

Brightness adds light, contrast flattens it towards each image's mean, gamma darkens the
mid-tones (an under-exposed camera response), and shadow multiplies the image by a linear
ramp of light across it in a random direction. Each keeps the object's shape intact.
"""

from __future__ import annotations

import math

import torch

from cnnlab.corruptions.base import base_grid, level, uniform

BRIGHTNESS = (0.1, 0.2, 0.3, 0.4, 0.5)  # added to every pixel, on [0, 1] intensities
CONTRAST = (0.6, 0.45, 0.3, 0.2, 0.1)  # the share of each pixel's distance to the mean kept
GAMMA = (1.4, 1.8, 2.2, 2.6, 3.0)  # x -> x ** gamma
SHADOW = (0.3, 0.45, 0.6, 0.75, 0.9)  # light lost at the dark edge of the ramp


def brightness(x: torch.Tensor, severity: int, gen: torch.Generator) -> torch.Tensor:
    """Add the severity's amount of light to every pixel (saturating at white)."""
    return (x + level(BRIGHTNESS, severity)).clamp_(0, 1)


def contrast(x: torch.Tensor, severity: int, gen: torch.Generator) -> torch.Tensor:
    """Pull every pixel towards its image's mean, keeping the severity's share of the gap."""
    mean = x.mean(dim=(1, 2, 3), keepdim=True)
    return (x - mean) * level(CONTRAST, severity) + mean


def gamma(x: torch.Tensor, severity: int, gen: torch.Generator) -> torch.Tensor:
    """Raise intensities to the severity's gamma: black and white stay, mid-tones darken."""
    return x.clamp(0, 1).pow(level(GAMMA, severity))


def shadow(x: torch.Tensor, severity: int, gen: torch.Generator) -> torch.Tensor:
    """Multiply by light that falls linearly from 1 to 1 - the severity's loss across the
    image, in a random direction per image."""
    n, _, h, w = x.shape
    angle = uniform(n, 0, 2 * math.pi, gen)
    direction = torch.stack([angle.cos(), angle.sin()], -1).view(n, 1, 1, 2)
    # position along the direction, 0 at the lit corner and 1 at the dark one
    along = (base_grid(n, h, w) * direction).sum(-1)
    span = direction.abs().sum(-1)
    along = (along + span) / (2 * span)
    light = 1 - level(SHADOW, severity) * along
    return x * light.unsqueeze(1).to(x.device, x.dtype)


CORRUPTIONS = {"brightness": brightness, "contrast": contrast, "gamma": gamma,
               "shadow": shadow}
PARAMETERS = {"brightness": ("added to [0, 1] intensities", BRIGHTNESS),
              "contrast": ("share of the distance to the mean kept", CONTRAST),
              "gamma": ("x -> x ** gamma", GAMMA),
              "shadow": ("light lost at the dark edge of a linear ramp", SHADOW)}
