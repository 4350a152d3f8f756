"""How a run's model starts: the registry's builder, pretrained weights, data-dependent init.

The one place that turns a TrainConfig into the network before the optimizer sees it: frozen
parameters (``whiten_stem``) must be frozen by then, so they get no optimizer state.
"""

from __future__ import annotations

import torch
from torch import nn

from cnnlab.data.folder import FileDataset
from cnnlab.errors import CnnlabError
from cnnlab.models import get_model
from cnnlab.models.weights import load_pretrained
from cnnlab.training.config import TrainConfig

WHITEN_IMAGES = 10_000  # the first N training images: ample for a 9- or 27-dim covariance


def initial_model(cfg: TrainConfig, train_set, device: torch.device) -> nn.Module:
    """``cfg.model`` built for ``train_set``'s channels and classes, on ``device``, with
    ``cfg.weights`` loaded (new head), the stem whitened (``whiten_stem``) and channels_last
    when asked. Every rank builds the same model from the same seed and images."""
    channels = 3 if isinstance(train_set, FileDataset) else int(train_set.images.shape[1])
    model = get_model(cfg.model, num_classes=len(train_set.classes), in_channels=channels,
                      **cfg.model_options)
    if cfg.weights:
        load_pretrained(model, cfg.weights, new_head=True)
    model = model.to(device)
    if cfg.whiten_stem:
        whiten_stem(model, train_set, device)
    if cfg.channels_last:
        model = model.to(memory_format=torch.channels_last)
    return model


def whiten_stem(model: nn.Module, train_set, device: torch.device) -> None:
    """FastNet.whiten_stem over the first WHITEN_IMAGES of an in-memory ``train_set``,
    normalized as the training batches are."""
    if not hasattr(model, "whiten_stem") or isinstance(train_set, FileDataset):
        raise CnnlabError("whiten_stem needs fastnet and an in-memory dataset, not "
                          f"{type(model).__name__} on {type(train_set).__name__}")
    model.whiten_stem(train_set.normalize(train_set.images[:WHITEN_IMAGES].to(device)))
