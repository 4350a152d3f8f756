"""Feature extraction: layer names a user can type (``features.3``, ``layer3.1``,
``inception4a``), a layer's output for a batch, and every layer's output shape.

A layer's name is its dotted path in ``model.named_modules()``, the same path torchvision and
timm print, so ``--layer layer3.1`` means what it means there. An unknown name raises a
CnnlabError that lists the closest valid names.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

import torch
from torch import nn

from cnnlab.errors import CnnlabError


@dataclass(frozen=True)
class LayerInfo:
    """One named layer and the shape of its output for a given input (C, H, W; or (F,))."""

    name: str
    kind: str
    output_shape: tuple[int, ...]


def layer_names(model: nn.Module) -> list[str]:
    """Every typeable layer name, in definition order (the root module is left out)."""
    return [name for name, _ in model.named_modules() if name]


def conv_layer_names(model: nn.Module) -> list[str]:
    """Names of the model's nn.Conv2d layers, in definition order."""
    return [name for name, m in model.named_modules() if isinstance(m, nn.Conv2d)]


def find_layer(model: nn.Module, name: str) -> nn.Module:
    """The module called ``name``; CnnlabError naming close matches and valid names otherwise."""
    modules = dict(model.named_modules())
    if name and name in modules:
        return modules[name]
    names = layer_names(model)
    close = difflib.get_close_matches(name, names, n=5, cutoff=0.5)
    hint = f"did you mean {', '.join(close)}? " if close else ""
    tops = [n for n in names if n.count(".") <= 1]
    shown = ", ".join(tops[:40]) + (" ..." if len(tops) > 40 else "")
    model_name = getattr(model, "registry_name", type(model).__name__)
    raise CnnlabError(f"unknown layer {name!r} in {model_name}: {hint}valid names include "
                      f"{shown} ({len(names)} in all; `cnnlab viz layers` lists them)")


def find_conv(model: nn.Module, name: str | None) -> tuple[str, nn.Conv2d]:
    """A Conv2d layer by name (the first conv when None); CnnlabError for other layer kinds."""
    convs = conv_layer_names(model)
    if not convs:
        raise CnnlabError("the model has no Conv2d layer")
    name = convs[0] if name is None else name
    layer = find_layer(model, name)
    if not isinstance(layer, nn.Conv2d):
        raise CnnlabError(f"layer {name!r} is a {type(layer).__name__}, not a convolution; conv "
                          f"layers: {', '.join(convs[:30])}{' ...' if len(convs) > 30 else ''}")
    return name, layer


def check_channel(channel: int, channels: int, layer: str) -> int:
    """``channel`` if it indexes one of ``channels``; CnnlabError otherwise."""
    if not 0 <= channel < channels:
        raise CnnlabError(f"channel {channel} is out of range: layer {layer!r} has {channels} "
                          f"channels (0..{channels - 1})")
    return channel


class _Stop(Exception):
    """Raised by a hook to end a forward pass once the wanted layer has run."""

    def __init__(self, output: torch.Tensor) -> None:
        super().__init__()
        self.output = output


def layer_output(model: nn.Module, name: str, x: torch.Tensor) -> torch.Tensor:
    """N x C x h x w output of layer ``name`` for the batch ``x``.

    The forward pass stops right after the layer's first call (later layers never run), and
    the tensor keeps its autograd graph back to ``x``.
    """
    layer = find_layer(model, name)

    def hook(_module: nn.Module, _inputs: tuple, output: torch.Tensor) -> None:
        raise _Stop(output)

    handle = layer.register_forward_hook(hook)
    try:
        model(x)
    except _Stop as stop:
        return stop.output
    finally:
        handle.remove()
    raise CnnlabError(f"layer {name!r} is not used in the forward pass")


def _shape_pass(model: nn.Module, input_size: tuple[int, int, int],
                run: object = None) -> None:
    """Run ``run`` (default: the model) on one zero image, for the hooks to see shapes.

    A real pass, not fake tensors: FakeTensorMode's first use costs more than a forward.
    """
    with torch.no_grad():
        (run or model)(torch.zeros(1, *input_size))  # type: ignore[operator]


def describe_layers(model: nn.Module, input_size: tuple[int, int, int]) -> list[LayerInfo]:
    """Every named layer with its output shape for one input of ``input_size`` (C, H, W)."""
    shapes: dict[str, tuple[int, ...]] = {}
    handles = []
    for name, module in model.named_modules():
        if not name:
            continue

        def hook(_m: nn.Module, _i: tuple, out: object, name: str = name) -> None:
            if isinstance(out, torch.Tensor):
                shapes[name] = tuple(out.shape[1:])

        handles.append(module.register_forward_hook(hook))
    try:
        _shape_pass(model, input_size)
    finally:
        for handle in handles:
            handle.remove()
    return [LayerInfo(name, type(m).__name__, shapes.get(name, ()))
            for name, m in model.named_modules() if name]


def last_spatial_layer(model: nn.Module, input_size: tuple[int, int, int]) -> str:
    """The last layer of ``forward_features`` (or of the model) with an h x w > 1 x 1 output.

    This is the layer Grad-CAM uses by default (Selvaraju et al. take the last conv block).
    """
    order: list[str] = []
    handles = []
    for name, module in model.named_modules():
        if not name:
            continue

        def hook(_m: nn.Module, _i: tuple, out: object, name: str = name) -> None:
            if isinstance(out, torch.Tensor) and out.dim() == 4 and out.shape[-2:].numel() > 1:
                order.append(name)

        handles.append(module.register_forward_hook(hook))
    try:
        _shape_pass(model, input_size, getattr(model, "forward_features", None))
    finally:
        for handle in handles:
            handle.remove()
    if not order:
        raise CnnlabError("the model has no layer with a spatial output to visualize")
    return order[-1]
