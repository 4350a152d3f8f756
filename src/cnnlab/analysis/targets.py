"""What a user names -> a model on the meta device and its input size.

``NAME`` is a registry name (its native input size unless ``--input`` says otherwise);
``RUN_DIR`` is a run folder whose checkpoint.json records the model, its arguments and the
input size it was trained on. Only the architecture is needed, so no weights are read.
"""

from __future__ import annotations

import re
from pathlib import Path

import torch
from torch import nn

from cnnlab.errors import CnnlabError

_DTYPES = {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16,
           "float64": torch.float64}
_SIZE = re.compile(r"^\s*(\d+)(?:\s*[xX,]\s*(\d+))?(?:\s*[xX,]\s*(\d+))?\s*$")


def parse_input_size(text: str, channels: int) -> tuple[int, int, int]:
    """``"3x224x224"`` -> (3, 224, 224); ``"224x224"`` and ``"224"`` use ``channels``."""
    match = _SIZE.match(text or "")
    if not match:
        raise CnnlabError(f"malformed --input {text!r}: expected CxHxW, HxW or a side, "
                          f"e.g. 3x224x224")
    values = [int(v) for v in match.groups() if v is not None]
    if len(values) == 1:
        values = [channels, values[0], values[0]]
    elif len(values) == 2:
        values = [channels, *values]
    if min(values) < 1:
        raise CnnlabError(f"--input {text!r}: every side must be positive")
    return values[0], values[1], values[2]


def parse_dtype(name: str) -> torch.dtype:
    """``"float16"`` -> torch.float16 (the dtypes a profile can use)."""
    if name not in _DTYPES:
        raise CnnlabError(f"unknown dtype {name!r}; use one of {', '.join(_DTYPES)}")
    return _DTYPES[name]


def meta_model(spec: str, input_text: str | None = None, dtype: str = "float32"
               ) -> tuple[nn.Module, tuple[int, int, int]]:
    """Build NAME or RUN_DIR's model on the meta device; returns it and the (C, H, W) to use."""
    from cnnlab.checkpoint import read_meta
    from cnnlab.models import get_model, model_info

    path = Path(spec)
    if path.is_dir() or "/" in spec or spec.startswith("."):
        meta = read_meta(path)
        name, args = meta["model"], dict(meta.get("model_args") or {})
        native = meta.get("input_size") or model_info(name).input_size
    else:
        name, args = spec, {}
        native = model_info(name).input_size
    native = tuple(int(v) for v in native)
    if len(native) != 3:
        raise CnnlabError(f"{spec}: recorded input size {list(native)} is not C x H x W")
    size = native if input_text is None else parse_input_size(input_text, native[0])
    with torch.device("meta"):
        model = get_model(name, **args).to(parse_dtype(dtype))
    if getattr(model, "in_channels", size[0]) != size[0]:
        raise CnnlabError(f"{name} takes {model.in_channels}-channel input, --input has "
                          f"{size[0]} channels")
    return model, size  # type: ignore[return-value]
