"""squeeze-excite: an SE block reweights the feature maps for a small cost (SENet).

The registry's CIFAR ResNet-20 with and without ``attn="se"`` (an SE module on every
block's residual branch). Counted: the parameter and MAC overhead in percent (profiler);
measured: test error.
"""

from __future__ import annotations

from cnnlab.complexity.profiler import profile
from cnnlab.experiments import scales
from cnnlab.experiments.base import Analysis, Arm, Context, Experiment, Finding, Scale
from cnnlab.experiments.figures import error_bars
from cnnlab.experiments.registry import register_experiment
from cnnlab.experiments.stats import NOT_REPRODUCED, REPRODUCED, lower
from cnnlab.experiments.tables import arm_numbers, numbers_dict, standard_table
from cnnlab.models import get_model

_KEYS = ("plain", "se")
# Hu et al. section 4: SE-ResNet-50 needs about 2.5M parameters beyond ResNet-50's about 25M
SE_RESNET50_OVERHEAD = 2.5 / 25


def _arms(scale: Scale) -> list[Arm]:
    base = {"widths": scale.arms["widths"]}
    return [Arm("plain", "ResNet-20", "resnet20", base),
            Arm("se", "SE-ResNet-20", "resnet20",
                {**base, "attn": "se", "se_reduction": scale.arms["reduction"]})]


def _counts(arm: Arm, size: tuple[int, int, int]) -> tuple[int, int]:
    p = profile(get_model(arm.model, num_classes=10, in_channels=size[0], **arm.options), size)
    return p.params, p.macs


def _analyze(context: Context) -> Analysis:
    arms = {a.key: a for a in context.experiment.arms(context.scale)}
    size = (3, 32, 32) if context.scale.train["dataset"] == "cifar10" else (1, 28, 28)
    counts = {k: _counts(arms[k], size) for k in _KEYS}
    extra_params = counts["se"][0] / counts["plain"][0] - 1
    extra_macs = counts["se"][1] / counts["plain"][1] - 1
    n = {k: arm_numbers(context, k) for k in _KEYS}
    findings = [
        Finding("The SE modules cost little (under 5% more MACs):", REPRODUCED if extra_macs < 0.05
                else NOT_REPRODUCED,
                f"+{extra_params:.1%} parameters, +{extra_macs:.2%} MACs (profiler); "
                "SE-ResNet-50: about +10% parameters, +0.26% MACs"),
        lower("SE lowers the test error:", n["se"]["test_error"], n["plain"]["test_error"],
              "test error"),
    ]
    columns, rows = standard_table(context, list(_KEYS))
    columns.append("MACs (profiler)")
    for row, key in zip(rows, _KEYS, strict=True):
        row.append(f"{counts[key][1] / 1e6:.2f}M")
    numbers = numbers_dict(context, list(_KEYS)) | {
        "profile": {k: {"params": v[0], "macs": v[1]} for k, v in counts.items()},
        "extra_params": extra_params, "extra_macs": extra_macs,
        "se_resnet50_extra_params": SE_RESNET50_OVERHEAD}
    return Analysis(columns, rows, findings, numbers,
                    figure=error_bars(context, list(_KEYS), "ResNet-20 with and without SE"),
                    figure_caption="Test error: bar = mean, dots = seeds",
                    notes=[(f"SE reduction r = {arms['se'].options['se_reduction']} (SENet: 16; "
                           "our stages are narrower, so r is smaller to keep a hidden layer).")])


EXPERIMENT = register_experiment(Experiment(
    name="squeeze-excite",
    title="Squeeze-and-excitation: reweighted feature maps for a small cost",
    claim="Squeeze and excitation block: network is allowed to adaptively adjust the weighting "
          "of each feature map in the convolutional block.",
    lecture="ImageNet results slide (SENet 2017: 2.99% to 2.251%)",
    source="Hu, Shen, Albanie, Sun, Wu, Squeeze-and-Excitation Networks (2017), Table 2 and "
           "section 4",
    scales={
        "tiny": Scale(scales.tiny(), seeds=1, data="synthetic", duration="seconds",
                      arms={"widths": [2, 2, 4], "reduction": 2}),
        "quick": Scale(scales.quick(train_subset=4000, epochs=3), seeds=2,
                       duration=scales.measured(5.9, 84),
                       arms={"widths": [8, 16, 32], "reduction": 4}),
        "paper": Scale(scales.paper(epochs=1, max_steps=64_000, lr=0.1, nesterov=False,
                                    weight_decay=1e-4, schedule="multistep",
                                    schedule_unit="step", milestones=[32_000, 48_000],
                                    hflip=True, translate=4), seeds=3,
                       duration="hours on a GPU", arms={"widths": [16, 32, 64],
                                                        "reduction": 16}),
    },
    arms=_arms, analyze=_analyze,
    paper_setup="SE-ResNet-50 on ImageNet: 6.62% top-5 error vs 7.48% (ResNet-50), about "
                "2.5M parameters more than ResNet-50's 25M (10%), 3.87 vs 3.86 GFLOPs.",
))
