"""What every corruption shares: the severity scale, dtype round trips and resampling.

A corruption is ``fn(x, severity, gen) -> x'`` on float images N x C x H x W in [0, 1];
``apply`` wraps it so callers pass uint8 or float batches and get the same dtype, shape and
range back. Randomness (a direction, a patch position, a noise field) is drawn on the CPU from
``gen`` and moved to the batch's device, so a seed gives the same images on the CPU and a GPU's
corruption differs only by the device's arithmetic.

Geometry goes through one ``grid_sample`` per batch: every image gets its own sampling grid,
so no corruption loops over images in Python.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F

# x (float N x C x H x W in [0, 1]), severity 1..5, generator -> corrupted x
CorruptionFn = Callable[[torch.Tensor, int, torch.Generator], torch.Tensor]

SEVERITIES = (1, 2, 3, 4, 5)


def level(table: tuple[float, ...], severity: int) -> float:
    """The parameter of ``severity`` (1..5) from a corruption's five-value table."""
    return table[severity - 1]


def signs(n: int, gen: torch.Generator) -> torch.Tensor:
    """N random signs (+1 or -1), float32 on the CPU."""
    return torch.randint(0, 2, (n,), generator=gen).float().mul_(2).sub_(1)


def uniform(n: int, low: float, high: float, gen: torch.Generator) -> torch.Tensor:
    """N draws from U(low, high), float32 on the CPU."""
    return torch.rand(n, generator=gen).mul_(high - low).add_(low)


def to_float(x: torch.Tensor) -> torch.Tensor:
    """uint8 -> float32 in [0, 1]; a float batch is taken to be in [0, 1] already."""
    return x.float().div_(255.0) if x.dtype == torch.uint8 else x.float()


def like(y: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """``y`` (float in [0, 1] after clamping) in the dtype of ``x``: uint8 is rounded."""
    y = y.clamp(0.0, 1.0)
    if x.dtype == torch.uint8:
        return y.mul_(255.0).round_().to(torch.uint8)
    return y.to(x.dtype)


def sample(x: torch.Tensor, grid: torch.Tensor) -> torch.Tensor:
    """Bilinear resampling of N x C x H x W at ``grid`` N x H x W x 2 (x, y in [-1, 1]);
    points outside the image read black, as on a camera's empty surround."""
    return F.grid_sample(x, grid.to(x.device, x.dtype), mode="bilinear",
                         padding_mode="zeros", align_corners=False)


def affine(x: torch.Tensor, theta: torch.Tensor) -> torch.Tensor:
    """Resample each image by its own 2 x 3 matrix ``theta`` N x 2 x 3 (output -> input, in
    normalized coordinates, as ``F.affine_grid`` takes it)."""
    grid = F.affine_grid(theta.to(x.device, x.dtype), list(x.shape), align_corners=False)
    return sample(x, grid)


def base_grid(n: int, h: int, w: int) -> torch.Tensor:
    """The identity sampling grid N x H x W x 2 (x, y) at pixel centres, CPU float32."""
    ys = (torch.arange(h, dtype=torch.float32) * 2 + 1) / h - 1
    xs = (torch.arange(w, dtype=torch.float32) * 2 + 1) / w - 1
    gy, gx = torch.meshgrid(ys, xs, indexing="ij")
    return torch.stack([gx, gy], dim=-1).expand(n, h, w, 2)


def displace(x: torch.Tensor, flow: torch.Tensor) -> torch.Tensor:
    """Resample with a displacement field ``flow`` N x 2 x H x W in pixels (dx, dy): the output
    pixel at p reads the input at p + flow(p)."""
    n, _, h, w = x.shape
    scale = torch.tensor([2.0 / w, 2.0 / h], device=flow.device).view(1, 1, 1, 2)
    grid = base_grid(n, h, w).to(flow.device) + flow.permute(0, 2, 3, 1) * scale
    return sample(x, grid)


def _taps(sigma: float, radius: int) -> torch.Tensor:
    taps = torch.arange(-radius, radius + 1, dtype=torch.float32)
    kernel = torch.exp(-0.5 * (taps / sigma) ** 2)
    return kernel / kernel.sum()


def gaussian_blur(field: torch.Tensor, sigma: float) -> torch.Tensor:
    """Separable Gaussian smoothing of N x C x H x W (reflect padding), ``sigma`` in pixels;
    the kernel is cut to the image (reflect padding needs a radius under the side)."""
    c, h, w = field.shape[1:]
    rw, rh = (max(1, min(int(3 * sigma), side - 1)) for side in (w, h))
    kw = _taps(sigma, rw).to(field.device, field.dtype).view(1, 1, 1, -1).expand(c, 1, 1, -1)
    kh = _taps(sigma, rh).to(field.device, field.dtype).view(1, 1, -1, 1).expand(c, 1, -1, 1)
    out = F.conv2d(F.pad(field, (rw, rw, 0, 0), mode="reflect"), kw, groups=c)
    return F.conv2d(F.pad(out, (0, 0, rh, rh), mode="reflect"), kh, groups=c)
