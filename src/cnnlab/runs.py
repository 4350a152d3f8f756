"""What a user names -> a model and its metadata.

A spec is either a run folder (its ``checkpoint.json`` records the model, its arguments, the
input size and normalization it was trained with) or a registry name, optionally with a
weights file of another library (torchvision, timm). ``load_checkpoint`` and ``resolve_model``
build the model with its weights; ``meta_model`` builds only the architecture, on the meta
device, for tools that count shapes and operations and never read weights.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import torch
from torch import nn

from cnnlab.checkpoint import STEM, load_state_file, load_state_into, read_meta
from cnnlab.data import cifar, fashion_mnist, folder
from cnnlab.errors import CnnlabError
from cnnlab.models import get_model, model_info
from cnnlab.models.weights import load_pretrained

_DTYPES = {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16,
           "float64": torch.float64}
_SIZE = re.compile(r"^\s*(\d+)(?:\s*[xX,]\s*(\d+))?(?:\s*[xX,]\s*(\d+))?\s*$")


def _is_run_folder(spec: str) -> bool:
    return Path(spec).is_dir() or "/" in spec or spec.startswith(".")


def load_checkpoint(folder: str | Path, stem: str = STEM) -> tuple[nn.Module, dict[str, Any]]:
    """Rebuild the model recorded in a run folder and load its weights (CPU, eval mode)."""
    meta = read_meta(folder, stem)
    args = meta.get("model_args", {})
    model = get_model(meta["model"], **args)
    weights = Path(folder) / f"{stem}.safetensors"
    load_state_into(model, load_state_file(weights), str(weights))
    return model.eval(), meta


def resolve_model(spec: str, weights: str | Path | None = None,
                  num_classes: int | None = None) -> tuple[nn.Module, dict[str, Any]]:
    """A run folder, or a registry name (random weights unless ``weights`` is given).

    Returns the model in eval mode and a metadata dict shaped like a checkpoint's sidecar.
    A weights file for a registry name is taken to be the weight provider's, so the model is
    built with the options its family declares for that file (``ModelInfo.pretrained_options``).
    """
    if _is_run_folder(spec):
        if weights is not None:
            raise CnnlabError("--weights applies to a model name, not to a run folder")
        return load_checkpoint(Path(spec))
    info = model_info(spec)
    options = dict(info.pretrained_options) if weights is not None else {}
    model = get_model(spec, num_classes=num_classes, **options)
    if weights is not None:
        load_pretrained(model, weights)
    meta = {"model": spec, "model_args": {"num_classes": model.num_classes, **options},
            "input_size": list(info.input_size), "dataset": info.dataset,
            **dataset_defaults(info.dataset, model.num_classes)}
    return model.eval(), meta


def dataset_defaults(dataset: str, num_classes: int) -> dict[str, Any]:
    """Normalization and class names a zoo model (not a run) uses for its native dataset.

    ImageNet's 1000 class names come from torchvision's weight metadata (offline); Fashion-MNIST
    and CIFAR-10's from their datasets. Other class counts get their indices as names.
    """
    mean, std = _normalization(dataset)
    classes: list[str] | None = None
    if dataset == "imagenet" and num_classes == 1000:
        from torchvision.models import AlexNet_Weights

        classes = list(AlexNet_Weights.IMAGENET1K_V1.meta["categories"])
    elif dataset == "fashion-mnist" and num_classes == 10:
        classes = list(fashion_mnist.CLASSES)
    elif dataset == "cifar10" and num_classes == 10:
        classes = list(cifar.CIFAR10_CLASSES)
    return {"classes": classes, "normalization": {"mean": mean, "std": std}}


def input_normalization(meta: dict) -> dict[str, list[float]]:
    """The checkpoint's input statistics {"mean": [...], "std": [...]} (per channel, on [0, 1]
    pixels); ImageNet's when the metadata names none (torchvision's files)."""
    return meta.get("normalization") or dict(zip(("mean", "std"), _normalization("imagenet"),
                                                 strict=True))


def _normalization(dataset: str) -> tuple[list[float], list[float]]:
    """The dataset module's own training-set statistics (ImageNet's for anything else)."""
    stats = {"fashion-mnist": (fashion_mnist.MEAN, fashion_mnist.STD), **cifar.STATS}
    mean, std = stats.get(dataset, (folder.IMAGENET_MEAN, folder.IMAGENET_STD))
    return list(mean), list(std)


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
    """Build NAME or RUN_DIR's model on the meta device; returns it and the (C, H, W) to use.

    A registry name gets its native input size unless ``input_text`` (``--input``) says
    otherwise; a run folder the input size it was trained on. No weights are read.
    """
    if _is_run_folder(spec):
        meta = read_meta(Path(spec))
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
