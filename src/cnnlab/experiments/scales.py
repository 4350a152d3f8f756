"""The three sizes every experiment comes in, as TrainConfig values shared by its arms.

tiny   seconds: a learnable synthetic Fashion-MNIST (``data.synthetic``), one short epoch; for
       the tests, which check the report's plumbing, not the claim.
quick  minutes on a 2-core CPU: a Fashion-MNIST subset, a few epochs, 2+ seeds; each
       experiment picks the subset and epochs so that its effect can show, and its report
       says when it does not.
paper  the paper's dataset and schedule where the data can be had (CIFAR-10), for a GPU.

Every scale keeps the training split on the device (``in_memory``) and evaluates on the test
split after every epoch, so each run folder has its curves.
"""

from __future__ import annotations

from typing import Any

# In-memory batches: no flips or shifts unless an arm asks (regularization does).
_COMMON = {"in_memory": True, "hflip": False, "translate": 0, "quiet": True}


def tiny(**overrides: Any) -> dict[str, Any]:
    """A few steps on 256 synthetic images, scored on 100."""
    # one thread: the suite runs beside other jobs, where a second thread mostly waits
    return {**_COMMON, "dataset": "fashion-mnist", "epochs": 1, "batch_size": 64,
            "test_subset": 100, "eval_batch_size": 100, "threads": 1, **overrides}


def quick(**overrides: Any) -> dict[str, Any]:
    """Fashion-MNIST (60k/10k); experiments set the subset and epochs."""
    return {**_COMMON, "dataset": "fashion-mnist", "test_subset": 2000, "batch_size": 128,
            "eval_batch_size": 500, **overrides}


def paper(**overrides: Any) -> dict[str, Any]:
    """CIFAR-10, full splits; experiments set the schedule."""
    return {**_COMMON, "dataset": "cifar10", "batch_size": 128, "eval_batch_size": 1000,
            **overrides}


# Synthetic split sizes of the tiny scale (``write_fashion_mnist_like``).
TINY_TRAIN, TINY_TEST = 256, 100


def measured(wall_minutes: float, cpu_seconds: float) -> str:
    """The quick scale's cost as docs/make_experiments.py measured it on this session's
    machine: 2 cores shared with other jobs, so the wall clock is longer than on an idle one."""
    return (f"{wall_minutes:g} min of training wall clock ({cpu_seconds:g} CPU s) on 2 CPU "
            "cores shared with other jobs")

