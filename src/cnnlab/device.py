"""Where tensors run and how randomness starts: the two choices every command shares."""

from __future__ import annotations

import random

import numpy as np
import torch

from cnnlab.errors import CnnlabError


def pick_device(name: str) -> torch.device:
    """'auto' -> CUDA when available, else CPU; 'cuda...' without CUDA is a CnnlabError."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise CnnlabError(f"--device {name}: CUDA is not available on this machine")
    return torch.device(name)


def seed_everything(seed: int) -> torch.Generator:
    """Seed python, numpy and torch; return a generator seeded the same way."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    return torch.Generator().manual_seed(seed)


def bf16_is_fast(device: torch.device) -> bool:
    """Whether bf16 autocast speeds up convolution training on ``device``: on CUDA, and on CPUs
    with AMX tiles (oneDNN's bf16 kernels; fastnet's step in 0.5x the fp32 time,
    benchmarks/bench_fast_step.py --amp). Without AMX (measured on an AVX2-only CPU), bf16 ran
    several times slower than fp32."""
    if device.type == "cuda":
        return True
    # torch.cpu has no public AMX query; the private one is absent on some builds and CPUs
    probe = getattr(torch.cpu, "_is_amx_tile_supported", None)
    return device.type == "cpu" and bool(probe and probe())
