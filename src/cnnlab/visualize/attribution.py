"""Which input pixels drive a class score or a unit: gradients and class activation maps.

Where each method comes from:
- ``saliency`` (Simonyan et al. 2014): Captum ``Saliency``; the map is max over colour
  channels of |d score / d pixel|.
- ``guided-backprop`` (Springenberg et al. 2015) and ``deconvnet`` (Zeiler & Fergus 2014):
  ``cnnlab.visualize.guided``, because Captum's ``GuidedBackprop`` / ``Deconvolution`` hook
  ``nn.ReLU`` modules only and give the plain gradient on GoogLeNet's ``F.relu``; on models
  with ``nn.ReLU`` modules the results equal Captum's (tested).
- ``gradcam`` (Selvaraju et al. 2017): Captum ``LayerGradCam``, upsampled with
  ``LayerAttribution.interpolate`` (bilinear).
- ``gradcam++`` (Chattopadhay et al. 2018): written here, Captum has none. Weights use the
  closed form with exp(score) (the authors' code and pytorch-grad-cam do the same).

The target is a class (default: the predicted one) or, for the gradient methods, a unit: the
strongest activation of one channel of a layer, the projection Zeiler & Fergus draw.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from cnnlab.errors import CnnlabError
from cnnlab.models.feature_extraction import (
    check_channel,
    find_layer,
    last_spatial_layer,
    layer_output,
)
from cnnlab.visualize.figures import rescale, save_heatmap
from cnnlab.visualize.guided import ReluRule

GRADIENT_METHODS = ("saliency", "guided-backprop", "deconvnet")
CAM_METHODS = ("gradcam", "gradcam++")
METHODS = GRADIENT_METHODS + CAM_METHODS
DESCRIPTIONS = {
    "saliency": "Saliency map, |d score / d pixel| (Simonyan et al. 2014, via Captum)",
    "guided-backprop": "Guided backpropagation (Springenberg et al. 2015)",
    "deconvnet": "Deconvnet projection (Zeiler & Fergus 2014)",
    "gradcam": "Grad-CAM class activation map (Selvaraju et al. 2017, via Captum)",
    "gradcam++": "Grad-CAM++ class activation map (Chattopadhay et al. 2018, cnnlab's own)",
}


@dataclass
class Attribution:
    """``heat`` is H x W (input resolution, >= 0); ``gradient`` is C x H x W for the gradient
    methods (None for CAMs). ``target`` says what was explained."""

    method: str
    target: dict
    heat: np.ndarray
    gradient: np.ndarray | None = None
    layer: str | None = None
    extra: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        """The method, target, layer and the map's shape and peak as JSON; not the map."""
        y, x = np.unravel_index(int(self.heat.argmax()), self.heat.shape)
        return {"method": self.method, "target": self.target, "layer": self.layer,
                "map_shape": list(self.heat.shape), "map_max": float(self.heat.max()),
                "map_argmax_yx": [int(y), int(x)], **self.extra}


class _UnitScore(nn.Module):
    """N x 1: the largest activation of ``channel`` in ``layer`` (Zeiler & Fergus' projection)."""

    def __init__(self, model: nn.Module, layer: str, channel: int) -> None:
        super().__init__()
        self.model, self.layer, self.channel = model, layer, channel

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = layer_output(self.model, self.layer, x)
        return out[:, self.channel].flatten(1).amax(dim=1, keepdim=True)


@contextlib.contextmanager
def no_inplace(model: nn.Module) -> Iterator[None]:
    """Turn off in-place ReLUs: Captum's backward hooks cannot wrap an in-place op."""
    flipped = [m for m in model.modules() if getattr(m, "inplace", False) is True]
    for module in flipped:
        module.inplace = False
    try:
        yield
    finally:
        for module in flipped:
            module.inplace = True


def class_target(model: nn.Module, x: torch.Tensor, target: int | None,
                 classes: list[str] | None) -> dict:
    """The class to explain (predicted when None) with its probability."""
    with torch.no_grad():
        probs = torch.softmax(model(x).float(), dim=1)[0]
    index = int(probs.argmax()) if target is None else target
    if not 0 <= index < probs.numel():
        raise CnnlabError(f"class {index} is out of range: the model has {probs.numel()} classes")
    name = classes[index] if classes else str(index)
    return {"kind": "class", "class": index, "name": name, "probability": float(probs[index])}


def _gradient_attribution(method: str, scorer: nn.Module, x: torch.Tensor,
                          target: int) -> torch.Tensor:
    x = x.detach().clone().requires_grad_(True)
    if method == "saliency":
        from captum.attr import Saliency

        with no_inplace(scorer):
            return Saliency(scorer).attribute(x, target=target, abs=False)
    rule = "guided" if method == "guided-backprop" else "deconvnet"
    with ReluRule(rule):
        score = scorer(x)[:, target].sum()
    (grad,) = torch.autograd.grad(score, x)
    return grad


def gradient_map(model: nn.Module, x: torch.Tensor, method: str, target: int | None = None,
                 classes: list[str] | None = None, layer: str | None = None,
                 channel: int | None = None) -> Attribution:
    """Saliency, guided backprop or deconvnet for one image ``x`` (1 x C x H x W).

    With ``layer`` and ``channel`` the target is that channel's strongest unit, else a class.
    ``heat`` is max over input channels of |attribution|.
    """
    if method not in GRADIENT_METHODS:
        raise CnnlabError(f"unknown method {method!r}: choose from {', '.join(METHODS)}")
    model.eval()
    if (layer is None) != (channel is None):
        raise CnnlabError("give both --layer and --channel to explain a unit, or neither")
    if layer is not None and channel is not None:
        with torch.no_grad():
            out = layer_output(model, layer, x)
        check_channel(channel, out.shape[1], layer)
        scorer: nn.Module = _UnitScore(model, layer, channel)
        flat = int(out[0, channel].argmax())
        y, xx = divmod(flat, out.shape[-1])
        info = {"kind": "unit", "layer": layer, "channel": channel, "y": y, "x": xx,
                "activation": float(out[0, channel].max())}
        grad = _gradient_attribution(method, scorer, x, 0)
    else:
        info = class_target(model, x, target, classes)
        grad = _gradient_attribution(method, model, x, info["class"])
    grad = grad.detach()[0].float()
    heat = grad.abs().amax(dim=0).numpy()
    return Attribution(method, info, heat, grad.numpy(), layer)


def _layer_and_grad(model: nn.Module, x: torch.Tensor, layer: str,
                    target: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Layer ``layer``'s output A (1 x K x h x w) and d score / d A, for Grad-CAM++."""
    box: dict[str, torch.Tensor] = {}
    handle = find_layer(model, layer).register_forward_hook(
        lambda _m, _i, out: box.setdefault("a", out))
    try:
        with no_inplace(model):
            score = model(x)[0, target]
    finally:
        handle.remove()
    if "a" not in box or box["a"].dim() != 4:
        raise CnnlabError(f"layer {layer!r} gives no feature map C x h x w for a CAM")
    (grad,) = torch.autograd.grad(score, box["a"])
    return box["a"].detach(), grad


def _gradcam_plus_plus(model: nn.Module, x: torch.Tensor, layer: str,
                       target: int) -> torch.Tensor:
    """h x w Grad-CAM++ map (by hand: Captum has no Grad-CAM++)."""
    act, grad = _layer_and_grad(model, x, layer, target)
    g2, g3 = grad.pow(2), grad.pow(3)
    denom = 2 * g2 + act.sum(dim=(2, 3), keepdim=True) * g3
    alpha = g2 / torch.where(denom != 0, denom, torch.ones_like(denom))
    weights = (alpha * F.relu(grad)).sum(dim=(2, 3), keepdim=True)  # 1 x K x 1 x 1
    return F.relu((weights * act).sum(dim=1))[0]


def cam_map(model: nn.Module, x: torch.Tensor, method: str = "gradcam",
            layer: str | None = None, target: int | None = None,
            classes: list[str] | None = None) -> Attribution:
    """Grad-CAM or Grad-CAM++ of a class at ``layer`` (default: the last spatial layer).

    ``heat`` is the map upsampled (bilinear) to the input's H x W; ``extra["cam"]`` keeps
    the layer-resolution h x w map as nested lists.
    """
    if method not in CAM_METHODS:
        raise CnnlabError(f"unknown method {method!r}: choose from {', '.join(METHODS)}")
    model.eval()
    layer = layer or last_spatial_layer(model, tuple(x.shape[1:]))
    module = find_layer(model, layer)
    info = class_target(model, x, target, classes)
    if method == "gradcam":
        from captum.attr import LayerGradCam

        with no_inplace(model):
            cam = LayerGradCam(model, module).attribute(x, target=info["class"],
                                                        relu_attributions=True)
        if cam.dim() != 4:
            raise CnnlabError(f"layer {layer!r} gives no feature map C x h x w for a CAM")
        cam = cam.detach()[0, 0]
    else:
        cam = _gradcam_plus_plus(model, x, layer, info["class"])
    heat = F.interpolate(cam[None, None].float(), size=tuple(x.shape[-2:]), mode="bilinear",
                         align_corners=False)[0, 0]
    return Attribution(method, info, heat.clamp(min=0).numpy(), None, layer,
                       {"cam": cam.tolist()})


def attribute(model: nn.Module, x: torch.Tensor, method: str, **options: object) -> Attribution:
    """``method`` (one of METHODS) for one normalized image ``x`` (1 x C x H x W):
    ``gradient_map`` for the gradient methods, ``cam_map`` for the CAMs, ``options`` passed on
    (target, classes, layer, channel). The result's ``heat`` is H x W, at the input's size."""
    if method in CAM_METHODS:
        options.pop("channel", None)
        return cam_map(model, x, method, **options)  # type: ignore[arg-type]
    return gradient_map(model, x, method, **options)  # type: ignore[arg-type]


def gradient_picture(gradient: np.ndarray) -> np.ndarray:
    """C x H x W signed gradient -> H x W x 3 picture, zero at mid-gray (Springenberg's style)."""
    bound = float(np.abs(gradient).max()) or 1.0
    picture = 0.5 + 0.5 * gradient / bound
    if picture.shape[0] != 3:  # gray (or an unusual channel count): one level per pixel
        picture = np.repeat(picture.mean(axis=0, keepdims=True), 3, axis=0)
    return np.clip(picture.transpose(1, 2, 0), 0, 1)


def plot_attribution(result: Attribution, image: np.ndarray, path: str | Path,
                     model_name: str = "") -> Path:
    """Input, map and overlay panels; the gradient methods show the gradient as a picture."""
    target = result.target
    if target["kind"] == "class":
        what = f"class {target['name']} (p={target['probability']:.2f})"
    else:
        what = f"{target['layer']} ch {target['channel']} at ({target['y']}, {target['x']})"
    where = f" at {result.layer}" if result.layer and result.method in CAM_METHODS else ""
    title = f"{model_name} {result.method}{where}: {what}".strip()
    detail = gradient_picture(result.gradient) if result.method != "saliency" and \
        result.gradient is not None else None
    return save_heatmap(image, rescale(result.heat), path, title=title, detail=detail)
