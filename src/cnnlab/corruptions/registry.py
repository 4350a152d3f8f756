"""The lecture's six challenges of recognition, each with its corruptions, in one table.

Why these corruptions are cnnlab's own rather than an off-the-shelf package's (imagecorruptions,
the ImageNet-C / MNIST-C code): those packages refuse images under 32 pixels, which rules out
Fashion-MNIST's 28 x 28, several break on current NumPy and scikit-image, and they work one
NumPy image at a time. Here every corruption is a few torch operations on a whole batch (so it
runs on a GPU too), deterministic for a seed, with severity 0 exactly the clean image.

Intraclass variation is the sixth challenge but not a corruption: two shirts differ more than a
shirt and its rotated copy, and no transform of one image makes another instance of its class.
It has no corruptions here; ``cnnlab robustness`` reports it from the clean predictions
(accuracy per class, the most confused pairs).
"""

from __future__ import annotations

import torch

from cnnlab.corruptions import clutter, deformation, illumination, occlusion, viewpoint
from cnnlab.corruptions.base import SEVERITIES, CorruptionFn, like, to_float
from cnnlab.errors import CnnlabError

CHALLENGES: dict[str, dict[str, CorruptionFn]] = {
    "viewpoint": viewpoint.CORRUPTIONS,
    "illumination": illumination.CORRUPTIONS,
    "deformation": deformation.CORRUPTIONS,
    "occlusion": occlusion.CORRUPTIONS,
    "clutter": clutter.CORRUPTIONS,
    "intraclass": {},  # a report, not a corruption (see the module docstring)
}
CORRUPTIONS: dict[str, CorruptionFn] = {name: fn for group in CHALLENGES.values()
                                        for name, fn in group.items()}
# corruption -> (what its parameter is, the parameter at severities 1..5)
PARAMETERS: dict[str, tuple[str, tuple[float, ...]]] = {
    **viewpoint.PARAMETERS, **illumination.PARAMETERS, **deformation.PARAMETERS,
    **occlusion.PARAMETERS, **clutter.PARAMETERS}
CHALLENGE_OF: dict[str, str] = {name: challenge for challenge, group in CHALLENGES.items()
                                for name in group}
MAX_SEVERITY = max(SEVERITIES)


def list_corruptions(challenges: list[str] | None = None) -> list[str]:
    """Corruption names in table order, of the given challenges (default: all)."""
    for challenge in challenges or []:
        if challenge not in CHALLENGES:
            raise CnnlabError(f"unknown challenge {challenge!r}: use {', '.join(CHALLENGES)}")
    wanted = challenges or list(CHALLENGES)
    return [name for name in CORRUPTIONS if CHALLENGE_OF[name] in wanted]


def resolve_names(names: list[str]) -> list[str]:
    """Challenge and corruption names -> corruption names (table order, no repeats)."""
    picked: set[str] = set()
    for name in names:
        if name in CHALLENGES:
            picked.update(CHALLENGES[name])
        elif name in CORRUPTIONS:
            picked.add(name)
        else:
            raise CnnlabError(f"unknown challenge or corruption {name!r}: challenges are "
                              f"{', '.join(CHALLENGES)}; corruptions {', '.join(CORRUPTIONS)}")
    return [name for name in CORRUPTIONS if name in picked]


def check_severity(severity: int) -> int:
    """``severity`` if it is 0 (clean) .. 5; CnnlabError otherwise."""
    if isinstance(severity, bool) or not isinstance(severity, int) or not (
            0 <= severity <= MAX_SEVERITY):
        raise CnnlabError(f"severity {severity!r} is outside 0-{MAX_SEVERITY}")
    return severity


def corrupt(x: torch.Tensor, name: str, severity: int,
            generator: torch.Generator | int = 0) -> torch.Tensor:
    """Corruption ``name`` at ``severity`` of a batch N x C x H x W (uint8, or float in [0, 1]).

    Returns a new tensor of the same shape, dtype and range (uint8 rounded); severity 0
    returns ``x`` itself. ``generator`` is a CPU torch.Generator (its state advances) or a seed.
    """
    if name not in CORRUPTIONS:
        raise CnnlabError(f"unknown corruption {name!r}: use {', '.join(CORRUPTIONS)}")
    if check_severity(severity) == 0:
        return x
    if x.dim() != 4:
        raise CnnlabError(f"corruptions take N x C x H x W batches, got shape {list(x.shape)}")
    gen = generator if isinstance(generator, torch.Generator) else (
        torch.Generator().manual_seed(int(generator)))
    return like(CORRUPTIONS[name](to_float(x), severity, gen), x)
