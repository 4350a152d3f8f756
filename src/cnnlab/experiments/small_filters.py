"""small-filters: stacked 3x3 convs see as far as one 5x5 or 7x7 with fewer weights (VGG).

``stacknet`` at one width C with, per stage, one 5x5 / two 3x3 / one 7x7 / three 3x3 convs.
From the profiler (shapes only): the receptive field after the first stage and the weights of
its convs, against the formulas 25 C^2 vs 18 C^2 and 49 C^2 vs 27 C^2 (no biases: batch norm
follows each conv). Measured: test error and training time of each.
"""

from __future__ import annotations

from cnnlab.complexity.profiler import profile
from cnnlab.complexity.receptive_field import receptive_fields
from cnnlab.experiments import scales
from cnnlab.experiments.base import Analysis, Arm, Context, Experiment, Scale
from cnnlab.experiments.figures import error_bars
from cnnlab.experiments.registry import register_experiment
from cnnlab.experiments.stats import exact, lower
from cnnlab.experiments.tables import arm_numbers, numbers_dict
from cnnlab.models import get_model

# key -> (label, kernel, layers); pairs (single, stacked) with equal receptive fields
_VARIANTS = {"5x5": ("one 5x5", 5, 1), "3x3x2": ("two 3x3", 3, 2),
             "7x7": ("one 7x7", 7, 1), "3x3x3": ("three 3x3", 3, 3)}
PAIRS = (("5x5", "3x3x2"), ("7x7", "3x3x3"))


def _arms(scale: Scale) -> list[Arm]:
    width = scale.arms["width"]
    return [Arm(key, label, "stacknet", {"width": width, "kernel": k, "layers": n})
            for key, (label, k, n) in _VARIANTS.items()]


def stage_counts(arm: Arm, input_size: tuple[int, int, int]) -> dict[str, int]:
    """Profiler counts of ``block1`` (the first stage) of the arm's net: conv weights, MACs,
    and the receptive field (pixels, one side) of its output."""
    model = get_model(arm.model, num_classes=10, in_channels=input_size[0], **arm.options)
    rows = [r for r in profile(model, input_size).rows if r.name.startswith("block1.")]
    conv = [r for r in rows if r.category == "conv"]
    field = receptive_fields(model, input_size)["block1"]
    return {"weights": sum(r.weights for r in conv), "macs": sum(r.macs for r in conv),
            "field": int(field.size[0])}


def _analyze(context: Context) -> Analysis:
    arms = {a.key: a for a in context.experiment.arms(context.scale)}
    c = arms["5x5"].options["width"]
    size = (3, 32, 32) if context.scale.train["dataset"] == "cifar10" else (1, 28, 28)
    counts = {key: stage_counts(arm, size) for key, arm in arms.items()}
    formula = {"5x5": 25 * c * c, "3x3x2": 18 * c * c, "7x7": 49 * c * c, "3x3x3": 27 * c * c}
    findings = []
    for single, stacked in PAIRS:
        findings.append(exact(f"{_VARIANTS[stacked][0]} "
                              f"see as far as {_VARIANTS[single][0]}:",
                              counts[stacked]["field"], counts[single]["field"],
                              "receptive field after the first stage (pixels)"))
        for key in (single, stacked):
            findings.append(exact(f"{_VARIANTS[key][0]} at width C={c} has "
                                  f"{formula[key] // (c * c)} C^2 weights:",
                                  counts[key]["weights"], formula[key],
                                  "first-stage conv weights"))
        n = {k: arm_numbers(context, k) for k in (single, stacked)}
        findings.append(lower(f"{_VARIANTS[stacked][0]} reach a lower test error than "
                              f"{_VARIANTS[single][0]} (the \"regularization effect\"):",
                              n[stacked]["test_error"], n[single]["test_error"], "test error"))
    columns = ["stage", "receptive field", "weights (profiler)", "formula", "MACs / stage",
               "test error (%)", "train s/model"]
    rows = []
    for key in arms:
        n = arm_numbers(context, key)
        rows.append([_VARIANTS[key][0], f"{counts[key]['field']}x{counts[key]['field']}",
                     f"{counts[key]['weights']:,}",
                     f"{formula[key] // (c * c)} C^2 = {formula[key]:,}",
                     f"{counts[key]['macs'] / 1e6:.2f}M", n["test_error"].text(),
                     n["seconds"].text(scale=1, digits=1)])
    numbers = numbers_dict(context, list(arms)) | {"width": c, "counts": counts,
                                                   "formulas": formula}
    return Analysis(columns, rows, findings, numbers,
                    figure=error_bars(context, list(arms), f"Equal receptive fields, C={c}"),
                    figure_caption="Test error per stage design: bar = mean, dots = seeds",
                    notes=[("Counts are for the first stage at the experiment's input size; "
                           "the profiler runs on shapes only (meta device).")])


EXPERIMENT = register_experiment(Experiment(
    name="small-filters",
    title="Stacked 3x3 convolutions: the same receptive field with fewer weights",
    claim="Stack of 3x3 conv layers has same effective receptive field as 5x5 or 7x7 conv "
          "layer; Deeper means more non-linearities; Fewer parameters: 2 × (3 × 3 × C) vs "
          "(5 × 5 × C) → regularization effect",
    lecture="VGGNet slide, \"Why use only 3x3 filters?\"",
    source="Simonyan & Zisserman, Very Deep Convolutional Networks for Large-Scale Image "
           "Recognition (2014), section 2.3",
    scales={
        "tiny": Scale(scales.tiny(), seeds=1, data="synthetic", duration="seconds",
                      arms={"width": 4}),
        "quick": Scale(scales.quick(train_subset=4000, epochs=3), seeds=2,
                       duration=scales.measured(7.5, 96), arms={"width": 16}),
        "paper": Scale(scales.paper(epochs=30, lr=0.05, hflip=True, translate=4), seeds=3,
                       duration="about an hour on a GPU", arms={"width": 64}),
    },
    arms=_arms, analyze=_analyze,
    paper_setup="VGG's configurations on ImageNet, where 3x3 stacks replaced AlexNet's and "
                "ZFNet's 11x11 and 7x7 first layers.",
))
