"""The model zoo. Importing this package registers every family in the registry.

One file per family (alexnet.py, vgg.py, resnet.py, senet.py, ...), each with one builder
function per registered name; shared parts by concept in layers.py; the registry in
registry.py; loading other libraries' state dicts in weights.py. Family files import from these
submodules, never from this package.
"""

from cnnlab.models import (  # noqa: F401  (importing a family registers its models)
    ablation,
    alexnet,
    fast,
    googlenet,
    inception_resnet,
    inception_v3,
    nin,
    resnet,
    resnet_cifar,
    senet,
    small,
    vgg,
    vgg_chatfield,
    zfnet,
)
from cnnlab.models.base import Classifier, minimum_input_size
from cnnlab.models.registry import (
    ModelInfo,
    Paper,
    get_model,
    list_models,
    model_info,
    register_model,
)
from cnnlab.models.weights import load_timm_weights, load_torchvision_weights

__all__ = [
    "Classifier",
    "ModelInfo",
    "Paper",
    "get_model",
    "list_models",
    "load_timm_weights",
    "load_torchvision_weights",
    "minimum_input_size",
    "model_info",
    "register_model",
]
