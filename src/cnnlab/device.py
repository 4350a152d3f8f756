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
