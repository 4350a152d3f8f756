"""Named training recipes: a typed config factory, and optionally a function that finishes it.

    register_recipe("resnet-cifar", make_config, train_fn=None, description="...")
    get_recipe("resnet-cifar").make_config()  -> TrainConfig
    list_recipes()                            -> sorted names

Every recipe trains with the standard trainer (``cnnlab.training.trainer.train``). A recipe
whose values depend on the final config (after ``--set`` and the flags) passes
``train_fn(cfg: TrainConfig) -> RunResult``, which applies those rules and calls the trainer;
``train_fn=None`` calls the trainer directly. The ``fast`` and ``fast-30min`` recipes live in
``cnnlab.training.fast`` (their values and rules) and are registered here with the others.

Hyperparameters come from the papers; where a paper leaves a value open the comment says what
we chose and why.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from cnnlab.errors import CnnlabError
from cnnlab.training import fast
from cnnlab.training.config import TrainConfig


@dataclass(frozen=True)
class Recipe:
    """A named recipe: its config factory and the function that trains it."""

    name: str
    make_config: Callable[[], TrainConfig]
    train_fn: Callable[[TrainConfig], object] | None = None
    description: str = ""


_RECIPES: dict[str, Recipe] = {}


def register_recipe(name: str, make_config: Callable[[], TrainConfig],
                    train_fn: Callable[[TrainConfig], object] | None = None,
                    description: str = "") -> Recipe:
    """Register a recipe; a second registration of the same name is a ValueError."""
    if name in _RECIPES:
        raise ValueError(f"recipe {name!r} is registered twice")
    recipe = Recipe(name, make_config, train_fn, description)
    _RECIPES[name] = recipe
    return recipe


def list_recipes() -> list[str]:
    """Registered recipe names, sorted."""
    return sorted(_RECIPES)


def get_recipe(name: str) -> Recipe:
    """The recipe called ``name``; CnnlabError listing the known names otherwise."""
    if name not in _RECIPES:
        raise CnnlabError(f"unknown recipe {name!r}: choose from {', '.join(list_recipes())}")
    return _RECIPES[name]


def recipe_config(name: str) -> TrainConfig:
    """A fresh config of recipe ``name`` (its ``recipe`` field set to the name)."""
    cfg = get_recipe(name).make_config()
    cfg.recipe = name
    return cfg


# --- the papers' recipes ------------------------------------------------------------------------

def _fashion_mnist() -> TrainConfig:
    return TrainConfig()  # the skeleton's defaults: smallcnn, 5 epochs, one-cycle SGD


def _alexnet_imagenet() -> TrainConfig:
    # Krizhevsky et al. 2012, section 5: batch 128, momentum 0.9, weight decay 5e-4, lr 0.01
    # divided by 10 when the validation error stopped improving; about 90 epochs; 224 crops of
    # 256 images, flips, PCA lighting (section 4.1). Dropout 0.5 is the model's own default.
    return TrainConfig(
        model="alexnet", dataset="imagenet", epochs=90, batch_size=128, lr=0.01, momentum=0.9,
        nesterov=False, weight_decay=5e-4, decay_bn_and_bias=True, schedule="plateau",
        gamma=0.1, augment=["alexnet"], image_size=224, eval_resize=256, hflip=False,
        eval_batch_size=250)


def _vgg_imagenet() -> TrainConfig:
    # Simonyan & Zisserman 2015, section 3.1: batch 256, momentum 0.9, weight decay 5e-4,
    # lr 0.01 divided by 10 when validation accuracy stopped improving (3 times, 74 epochs);
    # scale jittering S in [256, 512], 224 crops, flips, AlexNet's colour shift.
    return TrainConfig(
        model="vgg16", dataset="imagenet", epochs=74, batch_size=256, lr=0.01, momentum=0.9,
        nesterov=False, weight_decay=5e-4, decay_bn_and_bias=True, schedule="plateau",
        augment=["vgg"], image_size=224, eval_resize=384, hflip=False, eval_batch_size=100)


def _googlenet_imagenet() -> TrainConfig:
    # Szegedy et al. 2015, section 6: momentum 0.9, lr cut by 4% every 8 epochs, auxiliary
    # losses weighted 0.3, crops of 8%-100% of the area with aspect 3/4-4/3 (Inception crop).
    # The paper gives no batch size or base lr; 256 and 0.01 are our choice (Polyak averaging of
    # the paper -> ema_decay).
    return TrainConfig(
        model="googlenet", dataset="imagenet", epochs=100, batch_size=256, lr=0.01,
        momentum=0.9, nesterov=False, weight_decay=2e-4, schedule="step", step_size=8,
        gamma=0.96, aux_loss_weight=0.3, augment=["inception"], image_size=224,
        eval_resize=256, hflip=False, ema_decay=0.9999, eval_batch_size=250)


def _resnet_imagenet() -> TrainConfig:
    # He et al. 2016, section 3.4: batch 256, lr 0.1 divided by 10 when the error plateaus, up to
    # 60e4 iterations (about 120 epochs), weight decay 1e-4, momentum 0.9, shorter side
    # resized randomly in [256, 480], 224 crops, flips, colour augmentation.
    return TrainConfig(
        model="resnet50", dataset="imagenet", epochs=120, batch_size=256, lr=0.1, momentum=0.9,
        nesterov=False, weight_decay=1e-4, decay_bn_and_bias=True, schedule="plateau",
        augment=["resnet"], image_size=224, eval_resize=256, hflip=False, eval_batch_size=250)


def _resnet_cifar() -> TrainConfig:
    # He et al. 2016, section 4.2: batch 128, lr 0.1 divided by 10 at 32k and 48k iterations,
    # stop at 64k, weight decay 1e-4, momentum 0.9, 4-pixel padding, 32x32 crops and flips.
    return TrainConfig(
        model="resnet20", dataset="cifar10", epochs=1, max_steps=64_000, batch_size=128,
        lr=0.1, momentum=0.9, nesterov=False, weight_decay=1e-4, decay_bn_and_bias=True,
        schedule="multistep", schedule_unit="step", milestones=[32_000, 48_000], gamma=0.1,
        augment=["cifar"], hflip=False)


register_recipe("fashion-mnist", _fashion_mnist,
                description="smallcnn on Fashion-MNIST, 5 epochs of one-cycle SGD (default)")
register_recipe("alexnet-imagenet", _alexnet_imagenet,
                description="AlexNet 2012: SGD 0.01 /10 on plateau, PCA lighting, 224 crops")
register_recipe("vgg-imagenet", _vgg_imagenet,
                description="VGG-16 2014: scale jitter [256, 512], SGD 0.01 /10 on plateau")
register_recipe("googlenet-imagenet", _googlenet_imagenet,
                description="GoogLeNet 2014: aux losses x0.3, Inception crops, -4% every 8 ep")
register_recipe("resnet-imagenet", _resnet_imagenet,
                description="ResNet-50 2015: SGD 0.1 /10 on plateau, scale aug [256, 480]")
register_recipe("resnet-cifar", _resnet_cifar,
                description="ResNet-20 on CIFAR-10: 64k iterations, /10 at 32k and 48k")
register_recipe("fast", fast.fast_config, fast.train_fast,
                description="fastnet, in-memory batches, one-cycle SGD, flip TTA views")
register_recipe("fast-30min", fast.fast_30min_config, fast.train_fast,
                description="fastnet 32-64-128: 75 fp32 epochs, 180 where bf16 is fast (~26 min)")
