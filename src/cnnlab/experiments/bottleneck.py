"""bottleneck: 1x1 reductions make the inception module affordable (GoogLeNet).

Counted by the profiler (shapes only), against the formula sum of H W K^2 C_in C_out:
  * the lecture's example on a 28x28x256 input: the naive module (1x1 128, 3x3 192, 5x5 96,
    3x3 pool) and the one with 1x1 reductions (64 before the 3x3 and the 5x5, 64 after the
    pool, 1x1 128), its MACs and output depth;
  * GoogLeNet's inception (3a) (registry ``googlenet``) beside Table 1's 159K / 128M;
  * output depth of three stacked modules of each kind.
Measured: test error and time of ``inceptionnet`` with naive and with reduced modules.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import torch
from torch import nn

from cnnlab.complexity.profiler import profile
from cnnlab.experiments import scales
from cnnlab.experiments.base import Analysis, Arm, Context, Experiment, Finding, Scale
from cnnlab.experiments.figures import error_bars
from cnnlab.experiments.registry import register_experiment
from cnnlab.experiments.stats import REPRODUCED, exact, lower
from cnnlab.experiments.tables import arm_numbers, numbers_dict
from cnnlab.models.googlenet import PAPER, Inception, NaiveInception
from cnnlab.runs import meta_model

LECTURE_INPUT = (256, 28, 28)
NAIVE = (128, 192, 96)  # 1x1, 3x3, 5x5
REDUCED = (128, 64, 192, 64, 96, 64)  # 1x1, 3x3 reduce, 3x3, 5x5 reduce, 5x5, pool proj
TABLE1_3A = {"params": 159_000, "macs": 128_000_000}  # Szegedy et al. Table 1, "159K", "128M"


def naive_macs(h: int, w: int, cin: int, widths: tuple[int, int, int]) -> int:
    """Formula: H W (1 c1 + 9 c3 + 25 c5) C_in multiply-accumulates."""
    c1, c3, c5 = widths
    return h * w * cin * (c1 + 9 * c3 + 25 * c5)


def reduced_macs(h: int, w: int, cin: int, widths: tuple[int, ...]) -> int:
    """Formula: H W [C_in (c1 + r3 + r5 + proj) + 9 r3 c3 + 25 r5 c5]."""
    c1, r3, c3, r5, c5, proj = widths
    return h * w * (cin * (c1 + r3 + r5 + proj) + 9 * r3 * c3 + 25 * r5 * c5)


def module_counts(build: Callable[[], nn.Module],
                  input_size: tuple[int, int, int]) -> dict[str, int]:
    """Profiler counts of the module ``build()`` makes (on the meta device: no weights are
    drawn): conv weights, parameters, conv MACs, output depth."""
    with torch.device("meta"):
        module = build()
    p = profile(module, input_size)
    conv = [r for r in p.rows if r.category == "conv"]
    return {"weights": sum(r.weights for r in conv), "params": p.params,
            "macs": sum(r.macs for r in conv), "depth": p.rows[-1].shape[0]}


def stacked_depths(reduce: bool, modules: int = 3) -> list[int]:
    """Output depth after each of ``modules`` stacked lecture modules on 28x28x256."""
    depths, cin = [], LECTURE_INPUT[0]
    for _ in range(modules):
        kind, widths = (Inception, REDUCED) if reduce else (NaiveInception, NAIVE)
        cin = module_counts(partial(kind, cin, widths, PAPER), (cin, 28, 28))["depth"]
        depths.append(cin)
    return depths


def googlenet_3a() -> dict[str, int]:
    """inception (3a) of the registry's GoogLeNet (built on the meta device), profiled on its
    28x28x192 input."""
    model, _ = meta_model("googlenet")
    p = profile(model.inception3a, (192, 28, 28))
    return {"params": p.params, "macs": p.macs}


def _arms(scale: Scale) -> list[Arm]:
    return [Arm("naive", "naive modules", "inceptionnet", {"reduce": False}),
            Arm("reduced", "1x1-reduced modules", "inceptionnet", {"reduce": True})]


def _analyze(context: Context) -> Analysis:
    h, w, cin = LECTURE_INPUT[1], LECTURE_INPUT[2], LECTURE_INPUT[0]
    naive = module_counts(partial(NaiveInception, cin, NAIVE, PAPER), LECTURE_INPUT)
    reduced = module_counts(partial(Inception, cin, REDUCED, PAPER), LECTURE_INPUT)
    g3a = googlenet_3a()
    depths = {"naive": stacked_depths(False), "reduced": stacked_depths(True)}
    n = {k: arm_numbers(context, k) for k in ("naive", "reduced")}
    findings = [
        exact("Naive module on 28x28x256, MACs:", naive["macs"], naive_macs(h, w, cin, NAIVE),
              "profiler vs formula"),
        exact("Reduced module on 28x28x256, MACs:", reduced["macs"],
              reduced_macs(h, w, cin, REDUCED), "profiler vs formula"),
        Finding("The 1x1 reductions make the module cheaper:",
                REPRODUCED if reduced["macs"] < naive["macs"] else "not reproduced at this scale",
                f"{naive['macs'] / 1e6:.0f}M vs {reduced['macs'] / 1e6:.0f}M MACs "
                f"({naive['macs'] / reduced['macs']:.1f}x), output depth {naive['depth']} vs "
                f"{reduced['depth']}"),
        Finding("Naive depth grows with every module, the reduced one's does not:",
                REPRODUCED if depths["naive"][-1] > depths["naive"][0]
                and len(set(depths["reduced"])) == 1 else "not reproduced at this scale",
                f"depths after 1, 2, 3 modules: naive {depths['naive']}, "
                f"reduced {depths['reduced']}"),
        lower("The reduced net trains faster (CPU seconds per model):",
              n["reduced"]["cpu_seconds"], n["naive"]["cpu_seconds"], "training CPU seconds",
              scale=1, unit=" s"),
    ]
    columns = ["", "naive", "with 1x1 reductions"]
    rows = [["28x28x256 module: conv MACs (profiler)", f"{naive['macs']:,}",
             f"{reduced['macs']:,}"],
            ["formula", f"{naive_macs(h, w, cin, NAIVE):,}",
             f"{reduced_macs(h, w, cin, REDUCED):,}"],
            ["conv weights", f"{naive['weights']:,}", f"{reduced['weights']:,}"],
            ["output depth after 1, 2, 3 modules", str(depths["naive"]),
             str(depths["reduced"])],
            ["small net: parameters", f"{context.arm_runs('naive')[0].params:,}",
             f"{context.arm_runs('reduced')[0].params:,}"],
            ["small net: test error (%)", n["naive"]["test_error"].text(),
             n["reduced"]["test_error"].text()],
            ["small net: training CPU seconds", n["naive"]["cpu_seconds"].text(1, 1),
             n["reduced"]["cpu_seconds"].text(1, 1)],
            ["GoogLeNet inception (3a): params / MACs (profiler)", "",
             f"{g3a['params']:,} / {g3a['macs']:,}"],
            ["Table 1 (Szegedy et al.)", "", "159K / 128M"]]
    numbers = numbers_dict(context, ["naive", "reduced"]) | {
        "lecture_module": {"naive": naive, "reduced": reduced},
        "formula_macs": {"naive": naive_macs(h, w, cin, NAIVE),
                         "reduced": reduced_macs(h, w, cin, REDUCED)},
        "stacked_depths": depths, "googlenet_3a": g3a, "table1_3a": TABLE1_3A}
    return Analysis(columns, rows, findings, numbers,
                    figure=error_bars(context, ["naive", "reduced"], "Small inception nets"),
                    figure_caption="Test error of the small nets: bar = mean, dots = seeds",
                    notes=[(f"Our (3a) has {g3a['params']:,} parameters (weights and biases) "
                           f"and {g3a['macs'] / 1e6:.1f}M MACs; Table 1 rounds to 159K and "
                           "128M and does not say what it leaves out of the parameters."),
                           ("The accuracy comparison is informational: the claim is about "
                           "cost.")])


EXPERIMENT = register_experiment(Experiment(
    name="bottleneck",
    title="1x1 bottlenecks make the inception module affordable",
    claim="What is the problem with this? Very expensive compute; Depth after concatenation "
          "can grow and grow at every layer! Use Bottleneck layers",
    lecture="GoogLeNet slides, \"Naïve Inception module\"",
    source="Szegedy et al., Going Deeper with Convolutions (2014), Fig. 2 and Table 1",
    scales={
        "tiny": Scale(scales.tiny(), seeds=1, data="synthetic", duration="seconds"),
        "quick": Scale(scales.quick(train_subset=4000, epochs=3), seeds=2,
                       duration=scales.measured(6.1, 84)),
        "paper": Scale(scales.paper(epochs=30, lr=0.05, hflip=True, translate=4), seeds=3,
                       duration="under an hour on a GPU"),
    },
    arms=_arms, analyze=_analyze,
    paper_setup="GoogLeNet on ImageNet: nine reduced modules, 6.8M parameters in all, 1.5G "
                "MACs; Table 1 lists each module's parameters and operations.",
))
