"""regularization: dropout and data augmentation fight overfitting (AlexNet).

The registry's ``smallcnn`` on a small training subset, long enough to overfit, in a 2 x 2
grid: dropout 0 or 0.5 before the last FC layer, augmentation off or on (random flips and
2-pixel shifts). Measured: the train-test gap (test error minus the last epoch's training
error) and the test error of each cell.
"""

from __future__ import annotations

from cnnlab.experiments import scales
from cnnlab.experiments.base import Analysis, Arm, Context, Experiment, Scale
from cnnlab.experiments.figures import TRAIN_TOO_CAPTION, error_bars
from cnnlab.experiments.registry import register_experiment
from cnnlab.experiments.stats import lower
from cnnlab.experiments.tables import arm_numbers, gap_table, numbers_dict

_AUGMENT = {"hflip": True, "translate": 2}
_GRID = (("none", "neither", 0.0, False), ("dropout", "dropout 0.5", 0.5, False),
         ("augment", "augmentation", 0.0, True), ("both", "dropout + augmentation", 0.5, True))


def _arms(scale: Scale) -> list[Arm]:
    width = scale.arms.get("width", 32)
    return [Arm(key, label, "smallcnn", {"width": width, "dropout": p},
                dict(_AUGMENT) if aug else {}) for key, label, p, aug in _GRID]


def _analyze(context: Context) -> Analysis:
    keys = [key for key, *_ in _GRID]
    n = {k: arm_numbers(context, k) for k in keys}
    findings = [
        lower("Dropout narrows the train-test gap:", n["dropout"]["gap"], n["none"]["gap"],
              "test minus training error"),
        lower("Augmentation narrows the train-test gap:", n["augment"]["gap"],
              n["none"]["gap"], "test minus training error"),
        lower("Both together lower the test error:", n["both"]["test_error"],
              n["none"]["test_error"], "test error"),
    ]
    columns, rows = gap_table(context, keys)
    return Analysis(columns, rows, findings, numbers_dict(context, keys),
                    figure=error_bars(context, keys, "Dropout and augmentation",
                                      train_too=True),
                    figure_caption=TRAIN_TOO_CAPTION,
                    notes=[("The training error is the last epoch's running error, on "
                           "augmented images and with dropout on where the arm uses them.")])


EXPERIMENT = register_experiment(Experiment(
    name="regularization",
    title="Dropout and data augmentation fight overfitting",
    claim="Data Augmentation; Dropout 0.5",
    lecture="AlexNet slide",
    source="Krizhevsky et al. (2012), section 4: augmentation and dropout against overfitting "
           "(\"Without dropout, our network exhibits substantial overfitting\")",
    scales={
        "tiny": Scale(scales.tiny(), seeds=1, data="synthetic", duration="seconds",
                      arms={"width": 4}),
        "quick": Scale(scales.quick(train_subset=2000, test_subset=2000, epochs=15,
                                    batch_size=64), seeds=2,
                       duration=scales.measured(6.3, 100), arms={"width": 16}),
        "paper": Scale(scales.paper(train_subset=10_000, epochs=60, lr=0.05), seeds=3,
                       duration="under an hour on a GPU", arms={"width": 64}),
    },
    arms=_arms, analyze=_analyze,
    paper_setup="AlexNet on ImageNet: dropout 0.5 in the first two FC layers, 224 crops of "
                "256 images with flips and PCA colour noise; without them it overfit.",
))
