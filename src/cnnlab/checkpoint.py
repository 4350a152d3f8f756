"""Checkpoints: safetensors weights plus a JSON sidecar, never pickles.

  <stem>.safetensors   the model's state dict
  <stem>.json          model name and args, classes, normalization, input size, metrics, versions

Both are written atomically (temp file, then rename), the JSON last, so a reader that finds
the JSON always finds the matching weights. ``resolve_model`` turns what a user types (a run
folder, or a registry name with an optional weights file) into a model and its metadata.
"""

from __future__ import annotations

import json
import platform
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


def versions() -> dict[str, str]:
    """Library versions recorded with every checkpoint and run."""
    import torchvision

    return {"cnnlab": __version__, "torch": torch.__version__,
            "torchvision": torchvision.__version__, "python": platform.python_version()}


def save_checkpoint(folder: str | Path, model: nn.Module, meta: dict[str, Any],
                    stem: str = STEM) -> Path:
    """Write ``folder/stem.safetensors`` and ``folder/stem.json``; returns the JSON path."""
    folder = Path(folder)
    state = {k: v.detach().to("cpu").contiguous() for k, v in model.state_dict().items()}
    with atomic_path(folder / f"{stem}.safetensors") as tmp:
        save_file(state, str(tmp))
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


def load_state_file(path: str | Path) -> dict[str, torch.Tensor]:
    """Read a .safetensors file or a .pth/.pt state dict (torch.load with weights_only=True)."""
    path = Path(path)
    if not path.is_file():
        raise CnnlabError(f"{path}: no such weights file")
    try:
        if path.suffix == ".safetensors":
            return load_file(str(path))
        state = torch.load(path, map_location="cpu", weights_only=True)
    except (SafetensorError, RuntimeError, OSError, EOFError, ValueError) as err:
        reason = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise CnnlabError(f"{path}: cannot read weights ({reason})") from None
    except Exception as err:  # noqa: BLE001 - the unpickler refuses objects with many types
        raise CnnlabError(f"{path}: refused to load: not a plain state dict "
                          f"({type(err).__name__})") from None
    if isinstance(state, dict) and "state_dict" in state and isinstance(state["state_dict"], dict):
        state = state["state_dict"]
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise CnnlabError(f"{path}: not a state dict of tensors")
    return state


def load_state_into(model: nn.Module, state: dict[str, torch.Tensor], source: str) -> None:
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


def load_checkpoint(folder: str | Path, stem: str = STEM) -> tuple[nn.Module, dict[str, Any]]:
    """Rebuild the model recorded in a run folder and load its weights (CPU, eval mode)."""
    from cnnlab.models import get_model

    meta = read_meta(folder, stem)
    args = meta.get("model_args", {})
    model = get_model(meta["model"], **args)
    weights = Path(folder) / f"{stem}.safetensors"
    load_state_into(model, load_state_file(weights), str(weights))
    return model.eval(), meta


# torchvision's GoogLeNet and Inception-v3 weights expect their models' transform_input=True
# (inputs re-normalized from ImageNet's statistics to [-1, 1]); a weights file for these two
# cnnlab models is torchvision's, since they exist to load it.
_TV_TRANSFORM = {"googlenet_bn", "inception_v3"}


def resolve_model(spec: str, weights: str | Path | None = None,
                  num_classes: int | None = None) -> tuple[nn.Module, dict[str, Any]]:
    """A run folder, or a registry name (random weights unless ``weights`` is given).

    Returns the model in eval mode and a metadata dict shaped like a checkpoint's sidecar.
    """
    from cnnlab.models import get_model, model_info

    path = Path(spec)
    if path.is_dir() or "/" in spec or spec.startswith("."):
        if weights is not None:
            raise CnnlabError("--weights applies to a model name, not to a run folder")
        return load_checkpoint(path)
    info = model_info(spec)
    options = {"transform_input": True} if weights is not None and spec in _TV_TRANSFORM else {}
    model = get_model(spec, num_classes=num_classes, **options)
    if weights is not None:
        from cnnlab.models.weights import load_pretrained

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
        from cnnlab.data.fashion_mnist import CLASSES

        classes = list(CLASSES)
    elif dataset == "cifar10" and num_classes == 10:
        classes = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse",
                   "ship", "truck"]
    return {"classes": classes, "normalization": {"mean": mean, "std": std}}


def input_normalization(meta: dict) -> dict[str, list[float]]:
    """The checkpoint's input statistics {"mean": [...], "std": [...]} (per channel, on [0, 1]
    pixels); ImageNet's when the metadata names none (torchvision's files)."""
    return meta.get("normalization") or dict(zip(("mean", "std"), _normalization("imagenet"),
                                                 strict=True))


def _normalization(dataset: str) -> tuple[list[float], list[float]]:
    """The dataset module's own training-set statistics (ImageNet's for anything else)."""
    from cnnlab.data import cifar, fashion_mnist, folder

    stats = {"fashion-mnist": (fashion_mnist.MEAN, fashion_mnist.STD), **cifar.STATS}
    mean, std = stats.get(dataset, (folder.IMAGENET_MEAN, folder.IMAGENET_STD))
    return list(mean), list(std)
