"""The experiments by name: the one list that feeds ``cnnlab experiment``, the tests and docs."""

from __future__ import annotations

from cnnlab.errors import CnnlabError
from cnnlab.experiments.base import Experiment

_EXPERIMENTS: dict[str, Experiment] = {}
# The order, which follows the lecture's claims.
ORDER = ("degradation", "activation", "ensemble", "small-filters", "bottleneck", "global-pool",
         "squeeze-excite", "lrn", "regularization")


def register_experiment(experiment: Experiment) -> Experiment:
    """Add ``experiment``; a second one of the same name is a ValueError."""
    if experiment.name in _EXPERIMENTS:
        raise ValueError(f"experiment {experiment.name!r} is registered twice")
    _EXPERIMENTS[experiment.name] = experiment
    return experiment


def list_experiments() -> list[str]:
    """Names in ``ORDER``, then any others in the order they registered."""
    rank = {name: i for i, name in enumerate(ORDER)}
    return sorted(_EXPERIMENTS, key=lambda name: rank.get(name, len(ORDER)))


def get_experiment(name: str) -> Experiment:
    """The experiment called ``name``; CnnlabError listing the names otherwise."""
    if name not in _EXPERIMENTS:
        raise CnnlabError(f"unknown experiment {name!r}: choose from "
                          f"{', '.join(list_experiments())}")
    return _EXPERIMENTS[name]
