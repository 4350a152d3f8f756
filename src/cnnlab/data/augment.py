"""The papers' augmentations as named, composable pieces.

Per-sample pipelines (image files, decoded in workers) are torchvision.transforms.v2 on uint8
C x H x W tensors; in-memory datasets get batched versions of the cheap pieces (flip, CIFAR crop,
PCA lighting) that draw their randomness from one generator per step, and run the other pieces
sample by sample.

  alexnet         resize 256, centre 256 crop, random crop, flip, PCA lighting (Krizhevsky 2012)
  vgg             shorter side random in [256, 512] (scale jittering), random crop, flip, lighting
  resnet          shorter side random in [256, 480], random crop, flip, lighting (He 2016)
  inception       random-resized crop, 8%-100% of the area, aspect 3/4-4/3 (Szegedy 2015), flip
  cifar           pad 4 pixels, random crop, flip (He 2016, section 4.2)
  flip            horizontal flip with probability 1/2
  pca-lighting    AlexNet's colour noise along the principal components of ImageNet RGB
  randaugment     torchvision's RandAugment (Cubuk 2020)
  trivialaugment  torchvision's TrivialAugmentWide (Mueller & Hutter 2021)
  challenges      half the images get one of the lecture's challenge corruptions at a random
                  severity (cnnlab.corruptions.mixing); batched for in-memory datasets
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

import torch
from torchvision.transforms import v2

from cnnlab.corruptions.mixing import RandomChallenge, corrupt_picked, draw_picks
from cnnlab.errors import CnnlabError

# Eigen-decomposition of the RGB covariance of ImageNet pixels in [0, 1], as published with
# fb.resnet.torch's lighting transform (the AlexNet paper describes the method, not the values).
IMAGENET_EIGVAL = torch.tensor([0.2175, 0.0188, 0.0045])
IMAGENET_EIGVEC = torch.tensor([[-0.5675, 0.7192, 0.4009],
                                [-0.5808, -0.0045, -0.8140],
                                [-0.5836, -0.6948, 0.4203]])
LIGHTING_STD = 0.1  # Krizhevsky et al. 2012, section 4.1: alpha ~ N(0, 0.1)
# Szegedy et al. 2015, section 6: crops of 8%-100% of the area, aspect ratio in [3/4, 4/3]
INCEPTION_SCALE, INCEPTION_RATIO = (0.08, 1.0), (3 / 4, 4 / 3)


@contextmanager
def sample_rng(seed: int) -> Iterator[None]:
    """Torch's global CPU generator seeded with ``seed`` inside the block, restored after.

    Seeds the CPU generator only: ``torch.manual_seed`` also queues a seed for every lazy
    accelerator, with a stack trace each time, which costs milliseconds per sample."""
    with torch.random.fork_rng(devices=[]):
        torch.default_generator.manual_seed(seed)
        yield


def lighting_shift(alphas: torch.Tensor) -> torch.Tensor:
    """RGB offsets N x 3 (in [0, 1] pixel units) for alphas N x 3: eigvec @ (alpha * eigval)."""
    return (alphas * IMAGENET_EIGVAL) @ IMAGENET_EIGVEC.T


class PCALighting(torch.nn.Module):
    """AlexNet's colour augmentation on one uint8 3 x H x W image (global torch RNG)."""

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        shift = lighting_shift(torch.randn(1, 3) * LIGHTING_STD)[0] * 255.0
        return (image.float() + shift.view(3, 1, 1)).round_().clamp_(0, 255).to(torch.uint8)


def _rgb_only(piece: str, channels: int) -> None:
    if channels != 3:
        raise CnnlabError(f"augmentation {piece!r} needs RGB images, the dataset has "
                          f"{channels} channel(s)")


def _pieces(size: int) -> dict[str, tuple[bool, Callable[[], list]]]:
    """name -> (produces the final size itself, factory of its v2 transforms)."""
    flip = v2.RandomHorizontalFlip
    return {
        "alexnet": (True, lambda: [v2.Resize(256, antialias=True), v2.CenterCrop(256),
                                   v2.RandomCrop(size), flip(), PCALighting()]),
        "vgg": (True, lambda: [v2.RandomShortestSize(list(range(256, 513)), antialias=True),
                               v2.RandomCrop(size), flip(), PCALighting()]),
        "resnet": (True, lambda: [v2.RandomShortestSize(list(range(256, 481)), antialias=True),
                                  v2.RandomCrop(size), flip(), PCALighting()]),
        "inception": (True, lambda: [v2.RandomResizedCrop(size, scale=INCEPTION_SCALE,
                                                          ratio=INCEPTION_RATIO, antialias=True),
                                     flip()]),
        "cifar": (False, lambda: [v2.RandomCrop(size, padding=4), flip()]),
        "flip": (False, lambda: [flip()]),
        "pca-lighting": (False, lambda: [PCALighting()]),
        "randaugment": (False, lambda: [v2.RandAugment()]),
        "trivialaugment": (False, lambda: [v2.TrivialAugmentWide()]),
        "challenges": (False, lambda: [RandomChallenge()]),
    }


AUGMENTATIONS = tuple(_pieces(1))
# pieces BatchAugment draws for a whole batch at once; the others run sample by sample
BATCHED = ("flip", "cifar", "pca-lighting", "challenges")
_RGB_PIECES = {"alexnet", "vgg", "resnet", "pca-lighting"}


def check_names(names: list[str]) -> None:
    """Raise CnnlabError for the first unknown augmentation name."""
    for name in names:
        if name not in AUGMENTATIONS:
            raise CnnlabError(f"unknown augmentation {name!r}: use {', '.join(AUGMENTATIONS)}")


def eval_transform(size: int, resize: int | None = None) -> v2.Compose:
    """Shorter side to ``resize`` (default size * 8/7, i.e. 256 for 224), centre crop ``size``."""
    resize = resize or round(size * 8 / 7)
    return v2.Compose([v2.Resize(resize, antialias=True), v2.CenterCrop(size)])


def train_transform(names: list[str], size: int, channels: int = 3) -> v2.Compose:
    """Compose the named pieces (in order) for uint8 C x H x W images, output C x size x size.

    When no piece crops to ``size`` itself, the evaluation resize and centre crop come first.
    """
    check_names(names)
    pieces = _pieces(size)
    for name in names:
        if name in _RGB_PIECES:
            _rgb_only(name, channels)
    steps: list = []
    if not any(pieces[name][0] for name in names):
        steps.extend(eval_transform(size).transforms)
    for name in names:
        steps.extend(pieces[name][1]())
    return v2.Compose(steps)


def step_generator(seed: int, epoch: int, step: int) -> torch.Generator:
    """The generator of one training step's batched augmentation (same on every rank)."""
    return torch.Generator().manual_seed(((seed * 7_919 + epoch) * 1_000_003 + step) % 2**63)


def batch_flip(x: torch.Tensor, flip: torch.Tensor) -> torch.Tensor:
    """Flip the images N x C x H x W where the boolean mask N is true, in one operation."""
    return torch.where(flip.to(x.device).view(-1, 1, 1, 1), x.flip(-1), x)


def batch_pad_crop(x: torch.Tensor, offsets: torch.Tensor, pad: int = 4) -> torch.Tensor:
    """Zero-pad N x C x H x W by ``pad`` and take the H x W crop at ``offsets`` N x 2 (dy, dx)."""
    n, _, h, w = x.shape
    padded = torch.nn.functional.pad(x, (pad, pad, pad, pad))
    rows = (offsets[:, 0].view(n, 1) + torch.arange(h).view(1, h)).to(x.device)  # N x H
    cols = (offsets[:, 1].view(n, 1) + torch.arange(w).view(1, w)).to(x.device)  # N x W
    batch = torch.arange(n, device=x.device).view(n, 1, 1)
    cropped = padded.permute(0, 2, 3, 1)[batch, rows.view(n, h, 1), cols.view(n, 1, w)]
    return cropped.permute(0, 3, 1, 2)  # N x C x H x W


class BatchAugment:
    """Apply named pieces to a global uint8 batch of an in-memory dataset.

    Random draws cover the whole global batch (``global_n`` samples) from ``step_generator`` and
    each process keeps its slice, so 2 processes with B/2 images see what 1 process with B sees.
    The exception is "challenges": which image gets which corruption is drawn for the global
    batch, but the draws inside a corruption (a direction, a patch) follow the images a
    process holds, so they differ between process counts (their distribution does not).
    """

    def __init__(self, names: list[str], channels: int) -> None:
        check_names(names)
        for name in names:
            if name in _RGB_PIECES:
                _rgb_only(name, channels)
        self.names = names

    def __call__(self, x: torch.Tensor, gen: torch.Generator, global_n: int,
                 start: int, seeds: list[int]) -> torch.Tensor:
        """x: this process's slice [start, start + len(x)) of the global batch (uint8)."""
        part = slice(start, start + x.shape[0])
        for name in self.names:
            if name in ("flip", "cifar"):
                if name == "cifar":
                    offsets = torch.randint(0, 9, (global_n, 2), generator=gen)[part]
                    x = batch_pad_crop(x, offsets)
                x = batch_flip(x, (torch.rand(global_n, generator=gen) < 0.5)[part])
            elif name == "challenges":
                x = corrupt_picked(x, draw_picks(global_n, gen)[part], gen)
            elif name == "pca-lighting":
                alphas = torch.randn(global_n, 3, generator=gen)[part] * LIGHTING_STD
                shift = (lighting_shift(alphas) * 255.0).to(x.device).view(-1, 3, 1, 1)
                x = (x.float() + shift).round_().clamp_(0, 255).to(torch.uint8)
            else:
                x = self._per_sample(name, x, seeds)
        return x

    @staticmethod
    def _per_sample(name: str, x: torch.Tensor, seeds: list[int]) -> torch.Tensor:
        transform = v2.Compose(_pieces(x.shape[-1])[name][1]())
        out = []
        for image, seed in zip(x.cpu(), seeds, strict=True):
            with sample_rng(seed):
                out.append(transform(image))
        return torch.stack(out).to(x.device)
