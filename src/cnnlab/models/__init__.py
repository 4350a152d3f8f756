"""The model zoo. Importing this package registers every family in the registry."""

from cnnlab.models import small  # noqa: F401  (registers smallcnn)
from cnnlab.models import alexnet, nin, vgg, vgg_chatfield, zfnet  # noqa: F401
from cnnlab.models.base import Classifier, minimum_input_size
from cnnlab.models.registry import (
    ModelInfo,
    Paper,
    get_model,
    list_models,
    model_info,
    register_model,
)

__all__ = [
    "Classifier",
    "ModelInfo",
    "Paper",
    "get_model",
    "list_models",
    "minimum_input_size",
    "model_info",
    "register_model",
]
