"""The ``fast`` recipe: time-to-accuracy on Fashion-MNIST, after airbench's design.

A recipe of the standard trainer (``cnnlab.training.trainer``); what makes it fast (airbench's
ideas; translation, test-time views, lookahead, label smoothing, batch size and peak lr were
tried both ways with benchmarks/tune_fast_recipe.py, see TRANSLATE; the end-to-end figures are
in benchmarks/results/fast.md) are TrainConfig values:
- ``in_memory``: the whole split lives on the device as normalized float32; a batch is one
  index operation and augmentation is a few batched tensor operations per epoch.
- FastNet (cnnlab.models.fast): a small stem, whitened and frozen (``whiten_stem``), pooling
  before BN, channels_last.
- SGD with Nesterov momentum (``fused_optimizer``: the fused kernel where torch has one for the
  device), torch's linear one-cycle schedule, label smoothing, no weight decay on BN and biases,
  airbench's lookahead every 5 steps (``lookahead_every``).
- Test-time augmentation (``eval_mode``, the views of cnnlab.evaluation.crops): the softmax
  of the image and of its mirror image ("flip"); schedules long enough to train with
  translations also average both moved by one pixel up-left and down-right ("flipshift", 6
  views). ``cnnlab evaluate`` scores the run with the same views and the same code.

What ``train_fast`` adds to the trainer are the recipe's two rules that depend on the final
config: translation by the number of epochs, and bf16 autocast where it is fast
(cnnlab.device.bf16_is_fast: CUDA, and CPUs with AMX; elsewhere fp32 is several times faster).
"""

from __future__ import annotations

import copy

from cnnlab.device import bf16_is_fast, pick_device
from cnnlab.errors import CnnlabError
from cnnlab.training.config import TrainConfig
from cnnlab.training.trainer import RunResult, train

# The recipe's values in one place (TrainConfig fields; the rest keep their defaults).
FAST_RECIPE = {
    "model": "fastnet",
    # 16-32-64 costs a third of the CPU of fastnet's default 32-64-128 per epoch (figures for
    # its 6- and 20-epoch schedules: benchmarks/results/fast.md). The conv3-pool stem (a 3x3
    # conv at 28x28 under a 2x2 max pool) costs 1.15x the patch stem's step at 2 threads
    # (benchmarks/bench_fast_step.py) and scored 93.87 / 93.78% (seeds 0 / 1, 22 epochs)
    # against 93.72% for the patch stem at 29 epochs, the same CPU time
    # (benchmarks/tune_fast_recipe.py; benchmarks/results/fast.md, "Issue 17, round 2")
    "model_options": {"widths": [16, 32, 64], "stem": "conv3-pool"},
    # In fp32: 22 epochs, the plateau of the 1-thread tuning runs (93.87 / 93.78% at 22 epochs,
    # 93.80% at 26; whitened: 93.63% at 26): with the whitened stem 93.83 +- 0.10% (3 seeds) in
    # 0.71x the Adam loop's 8 epochs on an AVX2-only CPU (benchmarks/results/fast.md, issue 17,
    # round 4). Where bf16 autocast is fast, BF16_EPOCHS instead; --epochs 6 reaches the plain
    # loop's accuracy
    "epochs": 22,
    "batch_size": 256,  # large enough for efficient CPU kernels, small enough for 230 steps/epoch
    "lr": 0.4,  # peak of the one-cycle schedule (SGD, Nesterov momentum)
    "momentum": 0.9,
    "nesterov": True,
    "fused_optimizer": True,
    "schedule": "onecycle-linear",
    "weight_decay": 5e-4,  # conv and FC weights only
    "warmup_fraction": 0.25,  # share of steps rising to the peak learning rate
    "label_smoothing": 0.1,
    # airbench's lookahead (cnnlab.training.lookahead), benchmarks/tune_fast_recipe.py
    # --lookahead: 6 epochs, 3 seeds, 92.54 vs 92.34% without; 20 epochs, 3 seeds, 93.46 +- 0.05%
    # vs 93.23 +- 0.11% without (benchmarks/results/fast.md); one blend of 70k weights per 5 steps
    "lookahead_every": 5,
    # airbench's whitening init of the stem, frozen (FastNet.whiten_stem): 93.83 +- 0.10% (3
    # seeds, 22 epochs, 2 threads) against 93.65 +- 0.23% without; trained rather than frozen
    # 93.63 vs 93.91% (seed 0, 1 thread) (benchmarks/results/fast.md, "Issue 17, round 4")
    "whiten_stem": True,
    "hflip": True,  # garments are left-right symmetric
    "channels_last": True,
    # where bf16_is_fast (CUDA, AMX CPUs; resolve): 22 epochs, seed 0, 1 thread, 94.06% in 0.58x
    # the CPU seconds of fp32 (94.01%) (benchmarks/tune_fast_recipe.py --set amp=none)
    "amp": "bf16",
    "eval_batch_size": 2000,
    "eval_mode": "flipshift",  # see EVAL_MODES_SUPPORTED
    "in_memory": True,
    "translate": None,  # TRANSLATE or 0 by the number of epochs (train_fast)
}
# The schedule where bf16 autocast is fast: a bf16 step costs 0.48x the fp32 one on an AMX CPU
# (benchmarks/bench_fast_step.py --amp), so 34 epochs take about the time of fp32's 22 and
# cross LONG_RUN_EPOCHS (1-pixel translation, flipshift views). 1 thread: 94.42 / 94.27 / 94.02%
# (seeds 0-2) against 94.06% for 22 epochs (seed 0) (benchmarks/results/fast.md, round 5).
BF16_EPOCHS = 34
# Random translation by up to this many pixels (black padding), per image, for schedules of
# LONG_RUN_EPOCHS or more; shorter ones translate 0 pixels and score with "flip" instead of
# "flipshift" (a net that never saw shifted images gains nothing from shifted test views).
# Measured with benchmarks/tune_fast_recipe.py (16-32-64, the views the rule picks): 6 epochs
# 92.34% (3 seeds) without vs 92.21% (seeds 0 and 1) with 1 pixel; 20 epochs, seed 0: 93.19%
# without vs 93.17% with; translation costs 4-10% more CPU per epoch. The 75-epoch run
# (benchmarks/results/fast.md) translates 1 pixel: long schedules need the regularization more
# (not measured without it).
TRANSLATE = 1
LONG_RUN_EPOCHS = 30
# Test-time views the recipe was tuned with (cnnlab.evaluation.crops). With 1-pixel translation
# in training (16-32-64, 6 epochs, seed 1): centre 91.77%, flip 91.91%, flipshift 92.21%.
# Without translation flip beats flipshift (seed 0: 92.52 vs 91.93%).
EVAL_MODES_SUPPORTED = ("center", "flip", "flipshift")


# ``fast-30min``: the best measured within 30 minutes of training on the 2-core CPU (both
# cores): fastnet 32-64-128, translation by the epoch rule (1 pixel) and flipshift views, the
# test split scored every few epochs (a flipshift pass of 32-64-128 costs about half an epoch).
# In fp32, 75 epochs scored every 5: 94.70 / 94.51% (seeds 0 / 1) in 26.5 minutes for the whole
# command on an AVX2-only CPU. Those runs had no lookahead, the patch stem and no whitening
# (2x2 patches of one channel have 4 directions, too few for 32 filters); all stay so here
# until a run with the fast recipe's newer choices is measured.
FAST_30MIN = {"epochs": 75, "model_options": {"widths": [32, 64, 128], "stem": "patch"},
              "eval_every": 5, "lookahead_every": 0, "whiten_stem": False, "amp": "none"}
# Where bf16 autocast is fast its step takes 0.40x the fp32 one on an AMX CPU
# (benchmarks/bench_fast_step.py --amp), so 30 minutes hold 180 epochs, scored every 10: 94.97 /
# 94.76% (seeds 0 / 1) in 23.6 / 22.9 minutes of training, 25.8 / 25.1 for the whole command, on
# an AMX Xeon (benchmarks/results/fast.md, round 5).
FAST_30MIN_BF16 = {"epochs": 180, "eval_every": 10, "amp": "bf16"}


def fast_config() -> TrainConfig:
    """The ``fast`` recipe's TrainConfig: BF16_EPOCHS where bf16 autocast is fast on the
    default device, else FAST_RECIPE's fp32 schedule."""
    return _bf16_schedule(TrainConfig(recipe="fast", **copy.deepcopy(FAST_RECIPE)),
                          {"epochs": BF16_EPOCHS})


def fast_30min_config() -> TrainConfig:
    """The ``fast-30min`` recipe: the fast recipe with FAST_30MIN's values, and
    FAST_30MIN_BF16's where bf16 autocast is fast on the default device."""
    return _bf16_schedule(TrainConfig(recipe="fast-30min", **{**copy.deepcopy(FAST_RECIPE),
                                                             **copy.deepcopy(FAST_30MIN)}),
                          FAST_30MIN_BF16)


def _bf16_schedule(cfg: TrainConfig, bf16_values: dict) -> TrainConfig:
    """``cfg`` with ``bf16_values`` where bf16 autocast is fast on its default device."""
    return cfg.replace(bf16_values) if bf16_is_fast(pick_device(cfg.device)) else cfg


def resolve(cfg: TrainConfig) -> TrainConfig:
    """Apply the rules that depend on the final config: translation (when ``translate`` is
    None) by the number of epochs, with "flip" instead of "flipshift" views when it is 0, and
    fp32 instead of bf16 autocast where bf16 is slow (bf16_is_fast). Returns ``cfg``, changed
    in place."""
    if cfg.eval_mode not in EVAL_MODES_SUPPORTED:
        raise CnnlabError(f"recipe {cfg.recipe!r} evaluates with "
                          f"{', '.join(EVAL_MODES_SUPPORTED)}, not eval_mode={cfg.eval_mode!r}")
    if cfg.translate is None:
        cfg.translate = TRANSLATE if cfg.epochs >= LONG_RUN_EPOCHS else 0
        if not cfg.translate and cfg.eval_mode == "flipshift":
            cfg.eval_mode = "flip"  # trained without shifts: shifted views do not help
    if cfg.amp == "bf16" and not bf16_is_fast(pick_device(cfg.device)):
        cfg.amp = "none"
    return cfg


def train_fast(cfg: TrainConfig) -> RunResult:
    """Run the ``fast`` recipe described by ``cfg``; writes the standard run folder."""
    return train(resolve(cfg.validate()))
