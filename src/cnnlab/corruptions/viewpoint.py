"""Viewpoint: the same object seen from another angle, distance or position.

Rotation, shear, scale, translation and perspective, each one resampling of the batch with a
matrix (or homography) per image. Directions are random per image; magnitudes are the
severity's, so severity s means the same amount of change for every image.
"""

from __future__ import annotations

import math

import torch

from cnnlab.corruptions.base import affine, base_grid, level, sample, signs, uniform

ROTATION_DEGREES = (8.0, 16.0, 24.0, 32.0, 40.0)
SHEAR = (0.1, 0.2, 0.3, 0.4, 0.5)  # horizontal shift per unit of height
SCALE_CHANGE = (0.1, 0.2, 0.3, 0.4, 0.5)  # the object grows or shrinks by 1 +- this
TRANSLATION = (0.06, 0.12, 0.18, 0.24, 0.30)  # fraction of the image side
PERSPECTIVE = (0.06, 0.12, 0.18, 0.24, 0.30)  # corner displacement, fraction of the side


def pixel_affine(x: torch.Tensor, content: torch.Tensor,
                 shift: torch.Tensor | None = None) -> torch.Tensor:
    """Move each image's content by the 2 x 2 matrix ``content`` N x 2 x 2 about the centre,
    then by ``shift`` N x 2 pixels (x right, y down); pixel units, so non-square images keep
    their proportions."""
    n, _, h, w = x.shape
    half = torch.tensor([w / 2, h / 2])
    inverse = torch.linalg.inv(content.double()).float()  # output point -> input point
    theta = torch.zeros(n, 2, 3)
    theta[:, :, :2] = inverse * half.view(1, 1, 2) / half.view(1, 2, 1)
    if shift is not None:
        theta[:, :, 2] = -(inverse @ shift.view(n, 2, 1)).view(n, 2) / half
    return affine(x, theta)


def rotation_matrices(degrees: torch.Tensor) -> torch.Tensor:
    """N x 2 x 2 rotations (image coordinates: y down, so a positive angle turns clockwise)."""
    rad = degrees * (math.pi / 180)
    cos, sin = rad.cos(), rad.sin()
    return torch.stack([torch.stack([cos, -sin], -1), torch.stack([sin, cos], -1)], -2)


def rotation(x: torch.Tensor, severity: int, gen: torch.Generator) -> torch.Tensor:
    """Turn each image by the severity's angle, clockwise or counter-clockwise."""
    angle = signs(x.shape[0], gen) * level(ROTATION_DEGREES, severity)
    return pixel_affine(x, rotation_matrices(angle))


def shear(x: torch.Tensor, severity: int, gen: torch.Generator) -> torch.Tensor:
    """Slant each image horizontally: x' = x + k y, k = +-the severity's factor."""
    k = signs(x.shape[0], gen) * level(SHEAR, severity)
    content = torch.eye(2).repeat(x.shape[0], 1, 1)
    content[:, 0, 1] = k
    return pixel_affine(x, content)


def scale(x: torch.Tensor, severity: int, gen: torch.Generator) -> torch.Tensor:
    """Zoom each image in or out about its centre by 1 +- the severity's change."""
    factor = 1 + signs(x.shape[0], gen) * level(SCALE_CHANGE, severity)
    return pixel_affine(x, torch.eye(2) * factor.view(-1, 1, 1))


def translation(x: torch.Tensor, severity: int, gen: torch.Generator) -> torch.Tensor:
    """Shift each image by the severity's fraction of its side, in a random direction."""
    n, _, h, w = x.shape
    angle = uniform(n, 0, 2 * math.pi, gen)
    distance = level(TRANSLATION, severity) * min(h, w)
    shift = torch.stack([angle.cos(), angle.sin()], -1) * distance
    return pixel_affine(x, torch.eye(2).repeat(n, 1, 1), shift)


def homographies(source: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """N x 3 x 3 matrices H with H [s, 1] ~ [t, 1] for four point pairs N x 4 x 2 each."""
    n = source.shape[0]
    sx, sy = source[..., 0].double(), source[..., 1].double()
    tx, ty = target[..., 0].double(), target[..., 1].double()
    one, zero = torch.ones_like(sx), torch.zeros_like(sx)
    rows_x = torch.stack([sx, sy, one, zero, zero, zero, -sx * tx, -sy * tx], -1)
    rows_y = torch.stack([zero, zero, zero, sx, sy, one, -sx * ty, -sy * ty], -1)
    a = torch.cat([rows_x, rows_y], 1)  # N x 8 x 8
    b = torch.cat([tx, ty], 1).unsqueeze(-1)  # N x 8 x 1
    h = torch.linalg.solve(a, b).squeeze(-1)
    return torch.cat([h, torch.ones(n, 1, dtype=h.dtype)], 1).view(n, 3, 3).float()


def perspective(x: torch.Tensor, severity: int, gen: torch.Generator) -> torch.Tensor:
    """Tilt each image's plane: its corners move by up to the severity's fraction of the side
    (at least half of it), each in its own random direction."""
    n, _, h, w = x.shape
    corners = torch.tensor([[-1.0, -1.0], [1.0, -1.0], [1.0, 1.0], [-1.0, 1.0]])
    angle = uniform(n * 4, 0, 2 * math.pi, gen).view(n, 4)
    reach = uniform(n * 4, 0.5, 1.0, gen).view(n, 4) * level(PERSPECTIVE, severity) * 2
    moved = corners + torch.stack([angle.cos(), angle.sin()], -1) * reach.unsqueeze(-1)
    # sampling maps each output point to an input point: from the moved corners back
    matrix = homographies(moved, corners.expand(n, 4, 2))
    grid = base_grid(n, h, w)
    points = torch.cat([grid, torch.ones(n, h, w, 1)], -1) @ matrix.transpose(1, 2).unsqueeze(1)
    return sample(x, points[..., :2] / points[..., 2:].clamp(min=1e-6))


CORRUPTIONS = {"rotation": rotation, "shear": shear, "scale": scale,
               "translation": translation, "perspective": perspective}
PARAMETERS = {"rotation": ("degrees, either way", ROTATION_DEGREES),
              "shear": ("horizontal shift per unit of height, either way", SHEAR),
              "scale": ("zoom by 1 +- this", SCALE_CHANGE),
              "translation": ("shift, fraction of the side", TRANSLATION),
              "perspective": ("corner shift, fraction of the side (at least half)", PERSPECTIVE)}
