"""global-pool: global average pooling replaces the FC layers (NIN; GoogLeNet).

The registry's ``smallcnn`` with its FC head (7x7 grid -> FC-256 -> FC-10) and with
``head="gap"`` (global average pool -> FC-10) on the same conv trunk. Measured: parameters,
test error, and the train-test gap (test error minus the last epoch's training error).
"""

from __future__ import annotations

from cnnlab.experiments import scales
from cnnlab.experiments.base import Analysis, Arm, Context, Experiment, Finding, Scale
from cnnlab.experiments.figures import TRAIN_TOO_CAPTION, error_bars
from cnnlab.experiments.registry import register_experiment
from cnnlab.experiments.stats import NOT_REPRODUCED, REPRODUCED, lower, not_lower
from cnnlab.experiments.tables import arm_numbers, gap_table, numbers_dict

_KEYS = ("fc", "gap")


def _arms(scale: Scale) -> list[Arm]:
    width = scale.arms.get("width", 32)
    return [Arm("fc", "FC head", "smallcnn", {"width": width, "head": "fc"}),
            Arm("gap", "global average pool", "smallcnn", {"width": width, "head": "gap"})]


def _analyze(context: Context) -> Analysis:
    n = {k: arm_numbers(context, k) for k in _KEYS}
    params = {k: context.arm_runs(k)[0].params for k in _KEYS}
    findings = [
        Finding("Global pooling throws away most of the parameters:",
                REPRODUCED if params["gap"] < params["fc"] else NOT_REPRODUCED,
                f"{params['fc']:,} vs {params['gap']:,} parameters "
                f"({1 - params['gap'] / params['fc']:.1%} fewer)"),
        not_lower("The FC head is no more accurate:", n["fc"]["test_error"],
                  n["gap"]["test_error"], "test error"),
        lower("Global pooling overfits less (smaller train-test gap):", n["gap"]["gap"],
              n["fc"]["gap"], "test minus training error"),
    ]
    columns, rows = gap_table(context, list(_KEYS))
    return Analysis(columns, rows, findings, numbers_dict(context, list(_KEYS)),
                    figure=error_bars(context, list(_KEYS), "FC head vs global average pool",
                                      train_too=True),
                    figure_caption=TRAIN_TOO_CAPTION,
                    notes=[("The training error is the last epoch's running error, with "
                           "dropout on, as the trainer logs it.")])


EXPERIMENT = register_experiment(Experiment(
    name="global-pool",
    title="Global average pooling instead of FC layers",
    claim="Global average pooling ... Only 5 million parameters (throw away fully connected "
          "layers)",
    lecture="GoogLeNet slides",
    source="Lin, Chen, Yan, Network In Network (2013), section 3.2; Szegedy et al. (2014), "
           "section 5 (+0.6% top-1 from average pooling)",
    scales={
        "tiny": Scale(scales.tiny(), seeds=1, data="synthetic", duration="seconds",
                      arms={"width": 4}),
        "quick": Scale(scales.quick(train_subset=5000, epochs=5), seeds=2,
                       duration=scales.measured(6.2, 79), arms={"width": 32}),
        "paper": Scale(scales.paper(epochs=30, lr=0.05, hflip=True, translate=4), seeds=3,
                       duration="well under an hour on a GPU", arms={"width": 64}),
    },
    arms=_arms, analyze=_analyze,
    paper_setup="NIN on CIFAR-10: global average pooling 10.41% test error vs 11.59% with FC "
                "layers (Table 5, no augmentation); GoogLeNet: +0.6% top-1 on ImageNet.",
))
