"""activation: ReLU trains several times faster than tanh (Krizhevsky et al. 2012, Fig. 1).

The same four-layer net (the registry's ``smallcnn``: two conv and two FC layers, without batch
norm or dropout, as in 2012) with ReLU and with tanh, each at a few constant learning rates, so
that each activation is judged at its own best rate as in the paper. Measured: the training
steps each needs until its running training error (over the last ``window`` steps, read from
the trainer's per-step log ``steps.csv``) is at or below a target, checked after every step
(the paper: 25% on CIFAR-10, six times fewer steps with ReLU).
"""

from __future__ import annotations

import math

from cnnlab.experiments import scales
from cnnlab.experiments.base import Analysis, Arm, Context, Experiment, Scale, Trained
from cnnlab.experiments.registry import register_experiment
from cnnlab.experiments.stats import Spread, lower, spread
from cnnlab.experiments.tables import numbers_dict, standard_table
from cnnlab.plotting import pyplot, save_figure
from cnnlab.training.runlog import read_steps

ACTIVATIONS = {"relu": "ReLU", "tanh": "tanh"}


def arm_key(activation: str, lr: float) -> str:
    return f"{activation}-lr{lr:g}"


def _arms(scale: Scale) -> list[Arm]:
    width = scale.arms.get("width", 32)
    return [Arm(arm_key(act, lr), f"{label}, lr {lr:g}", "smallcnn",
                {"activation": act, "batch_norm": False, "width": width, "dropout": 0.0},
                {"lr": lr})
            for act, label in ACTIVATIONS.items() for lr in scale.arms["lrs"]]


def running_error(run: Trained, window: int) -> tuple[list[int], list[float]]:
    """(global step, training error over the ``window`` steps ending there), from steps.csv.

    The first point is step ``window``: before it there are fewer steps to average.
    """
    log = read_steps(run.run_dir)
    steps, correct, images = log["step"], log["correct"], log["images"]
    out_steps, errors = [], []
    hits = seen = 0.0
    for i, step in enumerate(steps):
        hits, seen = hits + correct[i], seen + images[i]
        if i >= window:
            hits, seen = hits - correct[i - window], seen - images[i - window]
        if i >= window - 1:
            out_steps.append(int(step))
            errors.append(1 - hits / seen)
    return out_steps, errors


def steps_to(run: Trained, target: float, window: int) -> float:
    """The first step whose running training error is <= target (inf if none)."""
    steps, errors = running_error(run, window)
    return next((float(s) for s, e in zip(steps, errors, strict=True) if e <= target), math.inf)


def _bounded(runs: list[Trained], target: float, window: int) -> tuple[list[float], Spread]:
    """Steps per seed, and their spread with a seed that never reached the target counted as
    its whole run (a lower bound on its steps)."""
    steps = [steps_to(t, target, window) for t in runs]
    total = [len(read_steps(t.run_dir)["step"]) for t in runs]
    return steps, spread(s if math.isfinite(s) else n for s, n in zip(steps, total, strict=True))


def _analyze(context: Context) -> Analysis:
    target, window = context.scale.arms["target"], context.scale.arms["window"]
    keys = [arm.key for arm in context.experiment.arms(context.scale)]
    measured = {k: _bounded(context.arm_runs(k), target, window) for k in keys}
    # each activation at the learning rate that got it there in the fewest steps (the paper
    # chose each net's rate "to make training as fast as possible")
    best = {act: min((k for k in keys if k.startswith(f"{act}-")),
                     key=lambda k: measured[k][1].mean) for act in ACTIVATIONS}
    relu, tanh = measured[best["relu"]][1], measured[best["tanh"]][1]
    finding = lower(f"ReLU reaches {target:.0%} training error in fewer steps than tanh "
                    "(each at its best learning rate):", relu, tanh, "steps to target",
                    scale=1, unit=" steps", resolution=1)
    ratio = tanh.mean / relu.mean
    columns, rows = standard_table(context, keys)
    columns.append(f"steps to {target:.0%} train error")
    for row, key in zip(rows, keys, strict=True):
        steps, bounded = measured[key]
        missed = sum(not math.isfinite(s) for s in steps)
        row.append(bounded.text(scale=1, digits=0) + (" (best)" if key in best.values() else "")
                   + (f", {missed} seed(s) never reached it (counted as the whole run)"
                      if missed else ""))
    numbers = numbers_dict(context, keys) | {
        "target_train_error": target, "window_steps": window, "best_arm": best,
        "steps_to_target": {k: measured[k][0] for k in keys}, "tanh_over_relu": ratio,
        "paper_ratio": 6.0}
    return Analysis(columns, rows, [finding], numbers,
                    figure=_figure(context, keys, best, target, window),
                    figure_caption=(f"Training error over the last {window} steps, after every "
                                    "step (mean over seeds); bold: each activation's best "
                                    f"learning rate; dotted: the {target:.0%} target"),
                    notes=[(f"tanh needed {ratio:.2f}x the steps of ReLU here, each at its "
                            "best learning rate (the paper: about 6x on CIFAR-10)."),
                           (f"The running error averages the last {window} steps, so both "
                            f"curves lag the weights by about {window // 2} steps; the lag is "
                            "the same for both activations."), *_edge_notes(context, best)])


def _edge_notes(context: Context, best: dict[str, str]) -> list[str]:
    """A best rate at the end of the grid may not be the best rate: say so."""
    lrs = sorted(context.scale.arms["lrs"])
    notes = []
    for act, key in best.items():
        lr = float(key.split("-lr")[1])
        if len(lrs) > 1 and lr in (lrs[0], lrs[-1]):
            notes.append(f"{ACTIVATIONS[act]}'s best rate, {lr:g}, is at the end of the grid "
                         f"{', '.join(f'{x:g}' for x in lrs)}: a rate beyond it may be faster.")
    return notes


def _figure(context: Context, keys: list[str], best: dict[str, str], target: float,
            window: int):
    def draw(path):
        plt = pyplot()
        fig, ax = plt.subplots(figsize=(7, 4.5), dpi=100)
        for key in keys:
            runs = context.arm_runs(key)
            curves = [running_error(t, window) for t in runs]
            length = min(len(steps) for steps, _ in curves)
            mean = [100 * spread(errors[i] for _, errors in curves).mean for i in range(length)]
            act = key.split("-")[0]
            bold = key in best.values()
            ax.plot(curves[0][0][:length], mean, "-" if act == "relu" else "--",
                    color="C0" if act == "relu" else "C3", lw=2 if bold else 0.8,
                    alpha=1 if bold else 0.5, label=runs[0].arm.label)
        ax.axhline(100 * target, color="gray", ls=":")
        ax.set(xlabel="training steps", ylabel="training error (%)", ylim=(0, None),
               title="ReLU (solid) vs tanh (dashed)")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
        fig.tight_layout()
        return save_figure(fig, path)

    return draw


# Plain SGD at a constant rate, no weight decay, no augmentation: "no regularization of any
# kind" (the paper's Fig. 1); every step's loss and hits logged for the running error.
_CONSTANT = {"schedule": "constant", "nesterov": False, "weight_decay": 0.0, "log_steps": True}

EXPERIMENT = register_experiment(Experiment(
    name="activation",
    title="ReLU trains faster than tanh",
    claim="First use of ReLU",
    lecture="AlexNet slide",
    source="Krizhevsky, Sutskever, Hinton, ImageNet Classification with Deep Convolutional "
           "Neural Networks (2012), Fig. 1: 25% training error on CIFAR-10 six times faster "
           "with ReLUs than with tanh",
    scales={
        "tiny": Scale(scales.tiny(**_CONSTANT, epochs=2), seeds=1, data="synthetic",
                      duration="seconds (synthetic data)",
                      arms={"width": 4, "target": 0.5, "window": 2, "lrs": [0.02, 0.05]}),
        "quick": Scale(scales.quick(**_CONSTANT, train_subset=2560, batch_size=64, epochs=5,
                                    eval_every=5), seeds=2,
                       duration=scales.measured(17.3, 147),
                       arms={"width": 32, "target": 0.2, "window": 16,
                             "lrs": [0.01, 0.02, 0.05]}),
        "paper": Scale(scales.paper(**_CONSTANT, epochs=40), seeds=3,
                       duration="minutes on a GPU",
                       arms={"width": 32, "target": 0.25, "window": 50,
                             "lrs": [0.005, 0.01, 0.02, 0.05]}),
    },
    arms=_arms, analyze=_analyze,
    paper_setup="a four-layer CNN on CIFAR-10, each net with its own best learning rate, no "
                "regularization; ReLU reached 25% training error six times faster.",
))
