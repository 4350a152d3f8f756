"""ensemble: averaging several CNNs cuts the error (AlexNet's 7 CNNs: 18.2% -> 15.4%).

K members of the same net, trained with different seeds (``--seeds`` is K), each holding out
the same training images. Reported on the test split: each member's error, the uniform
average of their softmax outputs, and weights tuned on the held-out training images (never on
test), all through ``cnnlab.evaluation.ensemble`` (what ``cnnlab ensemble`` prints). The
relative error reduction is set beside AlexNet's, 1 - 15.4 / 18.2.
"""

from __future__ import annotations

from cnnlab.evaluation.ensemble import ensemble_runs
from cnnlab.experiments import scales
from cnnlab.experiments.base import Analysis, Arm, Context, Experiment, Finding, Scale
from cnnlab.experiments.figures import error_bars
from cnnlab.experiments.registry import register_experiment
from cnnlab.experiments.stats import NOT_REPRODUCED, NOT_SHOWN, REPRODUCED, spread
from cnnlab.experiments.tables import numbers_dict

ALEXNET_SINGLE, ALEXNET_ENSEMBLE = 18.2, 15.4  # top-5 error (%), the lecture's AlexNet slide


def _arms(scale: Scale) -> list[Arm]:
    return [Arm("member", "member", "smallcnn", {"width": scale.arms.get("width", 32)},
                {"holdout": scale.arms["holdout"]})]


def _analyze(context: Context) -> Analysis:
    members = context.arm_runs("member")
    runs = [t.run_dir for t in members]
    if len(runs) < 2:
        finding = Finding("An ensemble has a lower error than its members:", NOT_SHOWN,
                          "one member is no ensemble; run with --seeds 2 or more")
        return Analysis(["member", "test error (%)"],
                        [[t.run_dir.name, f"{100 * t.test_error:.2f}"] for t in members],
                        [finding], numbers_dict(context, ["member"]))
    uniform, tuned = ensemble_runs(runs, "uniform"), ensemble_runs(runs, "tuned")
    by_name = {e.name: e for e in uniform.entries}
    member_errors = spread(by_name[r.name].top1_error for r in runs)
    single, average = member_errors.mean, by_name["ensemble"].top1_error
    tuned_error = next(e.top1_error for e in tuned.entries if e.name == "ensemble")
    reduction, paper = 1 - average / single, 1 - ALEXNET_ENSEMBLE / ALEXNET_SINGLE
    effect, noise = single - average, member_errors.range
    measured = (f"mean member error {100 * single:.2f}%, uniform ensemble {100 * average:.2f}%"
                f" (difference {100 * effect:.2f} points, member range {100 * noise:.2f})")
    if effect > noise:
        verdict, why = REPRODUCED, ": the cut exceeds the spread"
    elif -effect > noise:
        verdict, why = NOT_REPRODUCED, ": the ensemble is worse, beyond the spread"
    else:
        verdict, why = NOT_SHOWN, ": the cut is within the members' spread"
    finding = Finding(f"The average of {len(runs)} members has a lower error than a member:",
                      verdict, measured + why)
    rows = [[r.name, f"{100 * by_name[r.name].top1_error:.2f}"] for r in runs]
    rows += [[f"uniform average of {len(runs)}", f"{100 * average:.2f}"],
             [f"weighted average ({tuned.validation})", f"{100 * tuned_error:.2f}"],
             ["relative error reduction (uniform)", f"{100 * reduction:.1f}%"],
             ["AlexNet, 7 CNNs: 18.2% -> 15.4% top-5", f"{100 * paper:.1f}%"]]
    numbers = {"members": {r.name: by_name[r.name].top1_error for r in runs},
               "member_error": member_errors.to_dict(), "uniform_error": average,
               "tuned_error": tuned_error, "tuned_weights": tuned.weights,
               "tuned_on": tuned.validation, "test_samples": uniform.test_samples,
               "relative_reduction": reduction, "alexnet_relative_reduction": paper}
    return Analysis(["entry", "top-1 test error (%)"], rows, [finding], numbers,
                    figure=error_bars(context, ["member"], "Members (dots) and their mean"),
                    figure_caption="Test error of each member (dots) and their mean (bar)",
                    notes=[("AlexNet's figures are top-5 errors on ImageNet; ours are top-1 on "
                           "the test split (top-5 is near zero on ten classes)."),
                           ("The tuned weights come from the held-out training images; the "
                           "test split never tunes anything.")])


EXPERIMENT = register_experiment(Experiment(
    name="ensemble",
    title="Ensembles cut the error",
    claim="7 CNN ensemble: 18.2% → 15.4%",
    lecture="AlexNet slide (also CUImage 2016: \"Ensemble of 6 models\")",
    source="Krizhevsky, Sutskever, Hinton (2012), section 6; the ILSVRC 2016-17 ensembles",
    scales={
        "tiny": Scale(scales.tiny(), seeds=2, data="synthetic", duration="seconds",
                      arms={"width": 4, "holdout": 64}),
        "quick": Scale(scales.quick(train_subset=10_000, epochs=4, test_subset=None,
                                    eval_every=4), seeds=5,
                       duration=scales.measured(24.0, 187),
                       arms={"width": 32, "holdout": 2000}),
        "paper": Scale(scales.paper(epochs=30, lr=0.05), seeds=7,
                       duration="about an hour on a GPU (7 members)",
                       arms={"width": 64, "holdout": 5000}),
    },
    arms=_arms, analyze=_analyze,
    paper_setup="AlexNet: 5 CNNs averaged 16.4% top-5 error, 7 (2 pre-trained on ImageNet "
                "2011) 15.3% test / 15.4% val, against 18.2% for one CNN.",
))
