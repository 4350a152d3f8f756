"""The lecture's claims as experiments anyone can rerun (``cnnlab experiment``).

One file per experiment, each registering an ``Experiment`` (base.py) in registry.py; the
runner (runner.py) trains its models through ``cnnlab.training.trainer.train`` and the report
writer (report.py) writes report.md, results.json and the figure. Importing this package
registers every experiment, in the lecture's order.
"""

from cnnlab.experiments import (  # noqa: F401  (importing an experiment registers it)
    activation,
    bottleneck,
    degradation,
    ensemble,
    global_pool,
    lrn,
    regularization,
    small_filters,
    squeeze_excite,
)
from cnnlab.experiments.registry import get_experiment, list_experiments
from cnnlab.experiments.runner import run_experiment

__all__ = ["get_experiment", "list_experiments", "run_experiment"]
