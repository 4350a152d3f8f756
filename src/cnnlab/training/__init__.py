"""Training: typed configs, the loop, and run folders."""

from cnnlab.training.config import TrainConfig
from cnnlab.training.trainer import RunResult, train

__all__ = ["RunResult", "TrainConfig", "train"]
