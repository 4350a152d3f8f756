"""degradation: deeper plain nets train worse; residual ones do not (He et al. 2015).

Four of the registry's CIFAR nets (1-channel input for Fashion-MNIST): plain-20, plain-56,
ResNet-20, ResNet-56. The verdict reads the last epoch's training error: is plain-56's higher
than plain-20's, and ResNet-56's lower than ResNet-20's? The quick scale narrows the stages
(4-8-16 filters instead of 16-32-64) so that four nets per seed fit in minutes on a CPU.
"""

from __future__ import annotations

from cnnlab.experiments import scales
from cnnlab.experiments.base import Analysis, Arm, Context, Experiment, Scale
from cnnlab.experiments.figures import error_curves
from cnnlab.experiments.registry import register_experiment
from cnnlab.experiments.stats import lower
from cnnlab.experiments.tables import arm_numbers, numbers_dict, standard_table

_NETS = (("plain20", "plain-20"), ("plain56", "plain-56"), ("resnet20", "ResNet-20"),
         ("resnet56", "ResNet-56"))


def _arms(scale: Scale) -> list[Arm]:
    options = {"widths": scale.arms["widths"]} if "widths" in scale.arms else {}
    return [Arm(name, label, name, options) for name, label in _NETS]


def _analyze(context: Context) -> Analysis:
    keys = [name for name, _ in _NETS]
    n = {key: arm_numbers(context, key) for key in keys}
    findings = [
        lower("plain-56 ends with a higher training error than plain-20:",
              n["plain20"]["train_error"], n["plain56"]["train_error"], "training error"),
        lower("ResNet-56 ends with a lower training error than ResNet-20:",
              n["resnet56"]["train_error"], n["resnet20"]["train_error"], "training error"),
    ]
    columns, rows = standard_table(context, keys)
    return Analysis(columns, rows, findings, numbers_dict(context, keys),
                    figure=error_curves(context, keys, "Plain vs residual nets"),
                    figure_caption="Training error (thin, dashed) and test error (bold) per "
                                   "epoch, mean over seeds (He et al.'s Fig. 1 and 6 style)",
                    notes=[("The paper's effect appears over 64k iterations on CIFAR-10; a "
                           "few epochs on a Fashion-MNIST subset may be too short for it.")])


EXPERIMENT = register_experiment(Experiment(
    name="degradation",
    title="Deeper plain nets train worse; residual nets do not",
    claim="56-layer model performs worse on both training and test error. The deeper model "
          "performs worse, but it's not caused by overfitting! ... Deeper ResNets have lower "
          "training error, and also lower test error",
    lecture="ResNet slides",
    source="He, Zhang, Ren, Sun, Deep Residual Learning for Image Recognition (2015), "
           "Fig. 1 and Fig. 6",
    scales={
        "tiny": Scale(scales.tiny(), seeds=1, duration="seconds (synthetic data)",
                      data="synthetic", arms={"widths": [2, 2, 2]}),
        "quick": Scale(scales.quick(train_subset=5000, epochs=4, batch_size=64), seeds=2,
                       duration=scales.measured(55.3, 463),
                       arms={"widths": [4, 8, 16]}),
        "paper": Scale(scales.paper(epochs=1, max_steps=64_000, lr=0.1, momentum=0.9,
                                    nesterov=False, weight_decay=1e-4, decay_bn_and_bias=True,
                                    schedule="multistep", schedule_unit="step",
                                    milestones=[32_000, 48_000], gamma=0.1, hflip=True,
                                    translate=4, eval_every=1), seeds=2,
                       duration="hours on a GPU (64k iterations per net)"),
    },
    arms=_arms, analyze=_analyze,
    paper_setup="CIFAR-10, 64k iterations of batch 128, lr 0.1 divided by 10 at 32k and 48k, "
                "4-pixel shifts and flips; plain-56 above plain-20 in both errors, ResNet-56 "
                "below ResNet-20.",
))
