"""Checkpoints: safetensors weights plus a JSON sidecar, never pickles.

  <stem>.safetensors   the model's state dict
  <stem>.json          model name and args, classes, normalization, input size, metrics, versions

Both are written atomically (temp file, then rename), the JSON last, so a reader that finds
the JSON always finds the matching weights. This module is the file format only; turning a run
folder back into a model is ``cnnlab.runs``.
"""

from __future__ import annotations

import errno
import json
import os
import platform
import re
import warnings
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file
from torch import nn

from cnnlab import __version__
from cnnlab.errors import CnnlabError
from cnnlab.fileio import atomic_path, write_json

FORMAT = "cnnlab-checkpoint/1"
STEM = "checkpoint"
StateDict = dict[str, torch.Tensor]


def versions() -> dict[str, str]:
    """Library versions recorded with every checkpoint and run."""
    import torchvision

    return {"cnnlab": __version__, "torch": torch.__version__,
            "torchvision": torchvision.__version__, "python": platform.python_version()}


def save_tensors(tensors: StateDict, path: str | Path) -> None:
    """safetensors' ``save_file``, with an I/O failure raised as OSError (errno, file) like
    every other write, so that a full disk reads the same wherever it happens."""
    try:
        save_file(tensors, str(path))
    except SafetensorError as err:
        code = re.search(r"os error (\d+)", str(err))
        number = int(code.group(1)) if code else errno.EIO
        raise OSError(number, os.strerror(number), str(path)) from None


def save_checkpoint(folder: str | Path, model: nn.Module, meta: dict[str, Any],
                    stem: str = STEM) -> Path:
    """Write ``folder/stem.safetensors`` and ``folder/stem.json``; returns the JSON path."""
    folder = Path(folder)
    state = {k: v.detach().to("cpu").contiguous() for k, v in model.state_dict().items()}
    with atomic_path(folder / f"{stem}.safetensors") as tmp:
        save_tensors(state, tmp)
    sidecar = {"format": FORMAT, **meta, "versions": versions()}
    return write_json(folder / f"{stem}.json", sidecar)


def read_meta(folder: str | Path, stem: str = STEM) -> dict[str, Any]:
    """The JSON sidecar of a run folder (raises CnnlabError when absent or unreadable)."""
    path = Path(folder) / f"{stem}.json"
    if not Path(folder).is_dir():
        raise CnnlabError(f"{folder}: no such run folder")
    if not path.is_file():
        raise CnnlabError(f"{folder}: no checkpoint here ({path.name} is missing)")
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise CnnlabError(f"{path}: corrupt checkpoint metadata ({err})") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT or "model" not in meta:
        raise CnnlabError(f"{path}: not a cnnlab checkpoint (format {FORMAT} expected)")
    return meta


def load_state_file(path: str | Path) -> StateDict:
    """Read a .safetensors file or a .pth/.pt state dict (torch.load with weights_only=True)."""
    path = Path(path)
    if not path.is_file():
        raise CnnlabError(f"{path}: no such weights file")
    try:
        if path.suffix == ".safetensors":
            return load_file(str(path))
        with warnings.catch_warnings(record=True) as caught:
            # torch warns "Detected pickle protocol N" in several lines; a refusal says it in one
            warnings.simplefilter("always")
            state = torch.load(path, map_location="cpu", weights_only=True)
    except (SafetensorError, RuntimeError, OSError, EOFError, ValueError) as err:
        reason = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise CnnlabError(f"{path}: cannot read weights ({reason})") from None
    except Exception as err:  # noqa: BLE001 - the unpickler refuses objects with many types
        raise CnnlabError(f"{path}: refused to load: not a plain state dict "
                          f"({_unpickler_reason(err, caught)})") from None
    if isinstance(state, dict) and "state_dict" in state and isinstance(state["state_dict"], dict):
        state = state["state_dict"]
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise CnnlabError(f"{path}: not a state dict of tensors")
    return state


def _unpickler_reason(err: Exception, caught: list[warnings.WarningMessage]) -> str:
    """What torch's weights-only unpickler met, in a few words (else the exception type)."""
    match = re.search(r"WeightsUnpickler error:\s*(\S[^\n]*)|Trying to load (unsupported "
                      r"GLOBAL [^\n]*)", str(err))
    # the first sentence only: torch's advice (allow-listing globals) does not apply here
    reason = (match.group(1) or match.group(2)).split(". ")[0].strip().rstrip(".") if match \
        else type(err).__name__
    for warning in caught:
        protocol = re.search(r"pickle protocol (\d+)", str(warning.message))
        if protocol:
            return (f"pickle protocol {protocol.group(1)}, which torch's safe loader reads only "
                    f"in part: {reason}; torch.save's default protocol loads")
    return reason


def load_state_into(model: nn.Module, state: StateDict, source: str) -> None:
    """Strictly load ``state``; a mismatch is a CnnlabError that names the first differences."""
    own = model.state_dict()
    missing = [k for k in own if k not in state]
    unexpected = [k for k in state if k not in own]
    wrong = [f"{k} {tuple(state[k].shape)} vs {tuple(own[k].shape)}" for k in own
             if k in state and state[k].shape != own[k].shape]
    if missing or unexpected or wrong:
        parts = []
        for label, items in (("missing", missing), ("unexpected", unexpected), ("shape", wrong)):
            if items:
                parts.append(f"{label}: {', '.join(items[:3])}{' ...' if len(items) > 3 else ''}")
        name = getattr(model, "registry_name", type(model).__name__)
        raise CnnlabError(f"{source}: weights do not fit {name} ({'; '.join(parts)})")
    model.load_state_dict(state, strict=True)
