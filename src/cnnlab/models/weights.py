"""Loading weight files into zoo models (state dicts from cnnlab, torchvision or timm).

Converters for other libraries' key names register here: ``KEY_MAPS[model_name]`` is a function
from their state dict to ours. Models that share torchvision's module layout need none.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import torch
from torch import nn

from cnnlab.checkpoint import load_state_file, load_state_into

StateDict = dict[str, torch.Tensor]
KEY_MAPS: dict[str, Callable[[StateDict], StateDict]] = {}


def load_pretrained(model: nn.Module, weights: str | Path | StateDict) -> nn.Module:
    """Load a weights file (.pth/.pt/.safetensors) or a state dict into ``model`` (in place)."""
    source = str(weights) if not isinstance(weights, dict) else "state dict"
    state = weights if isinstance(weights, dict) else load_state_file(weights)
    convert = KEY_MAPS.get(getattr(model, "registry_name", ""))
    if convert is not None:
        state = convert(state)
    load_state_into(model, state, source)
    return model
