"""Training with the challenges: a random corruption of a random severity for some images.

``cnnlab train --set augment=challenges`` uses this (through ``cnnlab.data.augment``): each
image is left clean or gets one corruption, picked uniformly, at a severity 1-5. Keeping half
the images clean is what holds the clean accuracy; the other half is spread evenly over the
corruptions of the five challenges.
"""

from __future__ import annotations

import torch

from cnnlab.corruptions.base import SEVERITIES
from cnnlab.corruptions.registry import CORRUPTIONS, corrupt

CLEAN_SHARE = 0.5  # the fraction of training images left as they are


def draw_picks(n: int, gen: torch.Generator) -> torch.Tensor:
    """N picks: an index into CORRUPTIONS, or -1 (clean) with probability CLEAN_SHARE."""
    corrupted = torch.rand(n, generator=gen) >= CLEAN_SHARE
    which = torch.randint(0, len(CORRUPTIONS), (n,), generator=gen)
    return torch.where(corrupted, which, torch.full_like(which, -1))


def corrupt_picked(x: torch.Tensor, picks: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """Apply pick k (``CORRUPTIONS``' k-th) to the images of N x C x H x W whose pick is k.

    One call per corruption on the images that drew it, at one severity drawn per call, so a
    batch costs at most len(CORRUPTIONS) batched calls. Returns a new tensor (same dtype).
    """
    out = x.clone()
    for k, name in enumerate(CORRUPTIONS):
        severity = int(torch.randint(1, len(SEVERITIES) + 1, (1,), generator=gen))
        idx = (picks == k).nonzero().flatten().to(x.device)
        if idx.numel():
            out[idx] = corrupt(x[idx], name, severity, gen)
    return out


class RandomChallenge(torch.nn.Module):
    """The same mix for one C x H x W image in a per-sample pipeline (torchvision.transforms.v2
    style); its draws come from torch's global generator, which the loaders seed per sample."""

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        gen = torch.Generator().manual_seed(int(torch.randint(0, 2**62, (1,))))
        return corrupt_picked(image.unsqueeze(0), draw_picks(1, gen), gen)[0]
