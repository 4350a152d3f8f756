"""lrn: local response normalization does not help (AlexNet used it; VGG's A vs A-LRN).

The registry's ``smallcnn`` without batch norm (as in 2012), with and without AlexNet's LRN
(k=2, n=5, alpha=1e-4, beta=0.75) after each ReLU. Measured: test error and training time.
The claim holds unless LRN lowers the error by more than the seed spread.
"""

from __future__ import annotations

from cnnlab.experiments import scales
from cnnlab.experiments.base import Analysis, Arm, Context, Experiment, Scale
from cnnlab.experiments.figures import error_bars
from cnnlab.experiments.registry import register_experiment
from cnnlab.experiments.stats import lower, not_lower
from cnnlab.experiments.tables import arm_numbers, numbers_dict, standard_table

_KEYS = ("none", "lrn")


def _arms(scale: Scale) -> list[Arm]:
    base = {"batch_norm": False, "width": scale.arms.get("width", 32)}
    return [Arm("none", "no normalization", "smallcnn", base),
            Arm("lrn", "LRN after each ReLU", "smallcnn", {**base, "lrn": True})]


def _analyze(context: Context) -> Analysis:
    n = {k: arm_numbers(context, k) for k in _KEYS}
    findings = [
        not_lower("LRN does not lower the test error:", n["lrn"]["test_error"],
                  n["none"]["test_error"], "test error"),
        lower("LRN costs training time:", n["none"]["cpu_seconds"], n["lrn"]["cpu_seconds"],
              "training CPU seconds", scale=1, unit=" s"),
    ]
    columns, rows = standard_table(context, list(_KEYS))
    return Analysis(columns, rows, findings, numbers_dict(context, list(_KEYS)),
                    figure=error_bars(context, list(_KEYS), "With and without LRN"),
                    figure_caption="Test error: bar = mean, dots = seeds")


_NO_BN = {"lr": 0.05}  # no batch norm: the default 0.1 peak is too high for these nets

EXPERIMENT = register_experiment(Experiment(
    name="lrn",
    title="Local response normalization does not help",
    claim="Used norm layers(not common anymore)",
    lecture="AlexNet slide",
    source="Krizhevsky et al. (2012), section 3.3 (LRN: -1.4% top-1); Simonyan & Zisserman "
           "(2014), section 4.1: A-LRN does not improve on A",
    scales={
        "tiny": Scale(scales.tiny(**_NO_BN), seeds=1, data="synthetic", duration="seconds",
                      arms={"width": 4}),
        "quick": Scale(scales.quick(**_NO_BN, train_subset=5000, epochs=4), seeds=2,
                       duration=scales.measured(6.5, 85), arms={"width": 16}),
        "paper": Scale(scales.paper(**_NO_BN, epochs=30, hflip=True, translate=4), seeds=3,
                       duration="under an hour on a GPU", arms={"width": 64}),
    },
    arms=_arms, analyze=_analyze,
    paper_setup="VGG on ImageNet: A-LRN 29.7% / 10.5% top-1/top-5 error vs A 29.6% / 10.4% "
                "(Table 3), \"LRN does not improve the performance ... but leads to increased "
                "memory consumption and computation time\".",
))
