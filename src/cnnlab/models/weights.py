"""Loading weight files into zoo models (state dicts from cnnlab, torchvision or timm).

``weights`` may also name torchvision's published weights (``"torchvision"``,
``"IMAGENET1K_V2"``); torchvision_weights.py fetches the file into torch's hub cache first.

A family whose keys differ from the weight provider's declares the conversion in its models'
metadata, ``ModelInfo.convert_state`` (e.g. senet.py's ``from_timm_legacy_senet``); models that
share torchvision's module layout need none.
"""

from __future__ import annotations

from pathlib import Path

from torch import nn

from cnnlab.checkpoint import StateDict, load_state_file, load_state_into
from cnnlab.errors import CnnlabError
from cnnlab.models.registry import model_info
from cnnlab.models.torchvision_weights import fetch, find_weights, is_weight_name


def load_pretrained(model: nn.Module, weights: str | Path | StateDict,
                    new_head: bool = False) -> nn.Module:
    """Load a weights file (.pth/.pt/.safetensors), a torchvision weights name (``"torchvision"``
    for the default, ``"IMAGENET1K_V2"``, ...) or a state dict into ``model`` (in place).

    With ``new_head=True`` (fine-tuning), classifier weights whose shape differs from the
    model's (1000 ImageNet classes into a 10-class model) are left freshly initialized; every
    other tensor must still fit exactly.
    """
    name = getattr(model, "registry_name", None)
    if is_weight_name(weights):
        if name is None:
            raise CnnlabError(f"--weights {weights}: torchvision weights need a registry model")
        weights = fetch(find_weights(name, str(weights)))
    source = str(weights) if not isinstance(weights, dict) else "state dict"
    state = weights if isinstance(weights, dict) else load_state_file(weights)
    convert = model_info(name).convert_state if name is not None else None
    if convert is not None:
        state = convert(state)
    state = _without_absent_aux_heads(model, state)
    if new_head:
        state = _keep_own_head(model, state)
    load_state_into(model, state, source)
    return model


def _keep_own_head(model: nn.Module, state: StateDict) -> StateDict:
    own = model.state_dict()
    # The classifier, plus the auxiliary heads' last layers where a model has them (GoogLeNet).
    heads = [model.get_classifier(), *getattr(model, "aux_classifiers", list)()]
    head = {id(p) for m in heads for p in m.parameters()}
    head_keys = {k for k, p in model.named_parameters() if id(p) in head}
    return {k: (own[k] if k in head_keys and k in own and v.shape != own[k].shape else v)
            for k, v in state.items()}


def load_torchvision_weights(model: nn.Module, state_dict_or_path: str | Path | StateDict
                             ) -> nn.Module:
    """Load a torchvision state dict (or a .pth/.safetensors file of one) into a cnnlab model.

    Every cnnlab model that torchvision also has uses torchvision's module names, so its state
    dict loads unchanged; auxiliary-classifier weights (GoogLeNet ``aux1``/``aux2``,
    Inception-v3 ``AuxLogits``) are skipped when the model was built with ``aux_logits=False``.
    Raises CnnlabError naming the missing/unexpected keys when the weights do not fit.
    """
    return load_pretrained(model, state_dict_or_path)


def load_timm_weights(model: nn.Module, state_dict_or_path: str | Path | StateDict) -> nn.Module:
    """Load a timm state dict (or file) into a cnnlab model, converting its keys.

    The model's ``ModelInfo.convert_state`` renames the keys, e.g. timm's ``legacy_seresnet50``
    (Hu et al.'s Caffe weights, keys ``layer0.*``, ``se_module``, ``last_linear``) into
    ``se_resnet50``.
    """
    return load_pretrained(model, state_dict_or_path)


_AUX_HEADS = ("aux1", "aux2", "AuxLogits")


def _without_absent_aux_heads(model: nn.Module, state: StateDict) -> StateDict:
    # torchvision's GoogLeNet / Inception-v3 files hold the auxiliary heads even when one builds
    # the model without them; torchvision drops them after loading, we before.
    absent = {h for h in _AUX_HEADS if getattr(model, h, None) is None}
    return {k: v for k, v in state.items() if k.split(".", 1)[0] not in absent}
