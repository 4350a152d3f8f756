"""The papers' augmentations: sizes, oracles for the hand-written batched pieces, determinism."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torchvision.transforms import v2

from cnnlab.data.augment import (
    AUGMENTATIONS,
    IMAGENET_EIGVAL,
    IMAGENET_EIGVEC,
    BatchAugment,
    batch_pad_crop,
    lighting_shift,
    step_generator,
    train_transform,
)
from cnnlab.errors import CnnlabError


@pytest.mark.parametrize("name", AUGMENTATIONS)
def test_each_piece_gives_the_training_size(name):
    image = torch.randint(0, 256, (3, 50, 70), dtype=torch.uint8)
    out = train_transform([name], 32)(image)
    assert out.shape == (3, 32, 32) and out.dtype == torch.uint8


def test_pieces_compose_and_are_seeded():
    pipeline = train_transform(["inception", "randaugment", "pca-lighting"], 24)
    image = torch.randint(0, 256, (3, 40, 40), dtype=torch.uint8)
    torch.manual_seed(5)
    a = pipeline(image)
    torch.manual_seed(5)
    assert torch.equal(a, pipeline(image))


def test_vgg_scale_jitter_range_is_the_papers():
    jitter = train_transform(["vgg"], 224).transforms[0]
    assert isinstance(jitter, v2.RandomShortestSize)
    assert min(jitter.min_size) == 256 and max(jitter.min_size) == 512  # Simonyan 2015, 3.1


def test_lighting_shift_matches_the_eigen_decomposition():
    # ImageNet eigenvalues as published with fb.resnet.torch (Krizhevsky 2012 method).
    assert IMAGENET_EIGVAL.tolist() == pytest.approx([0.2175, 0.0188, 0.0045])
    alphas = torch.tensor([[0.1, -0.2, 0.3]])
    expected = sum(alphas[0, i] * IMAGENET_EIGVAL[i] * IMAGENET_EIGVEC[:, i] for i in range(3))
    assert torch.allclose(lighting_shift(alphas)[0], expected)
    # The eigenvectors are orthonormal, as a covariance's eigenbasis must be.
    gram = IMAGENET_EIGVEC.T @ IMAGENET_EIGVEC
    assert torch.allclose(gram, torch.eye(3), atol=2e-3)


def test_batch_pad_crop_matches_padding_and_slicing():
    x = torch.randint(0, 256, (5, 3, 8, 8), dtype=torch.uint8)
    offsets = torch.tensor([[0, 0], [8, 8], [3, 5], [8, 0], [1, 7]])
    out = batch_pad_crop(x, offsets)
    padded = F.pad(x, (4, 4, 4, 4))
    for i, (dy, dx) in enumerate(offsets.tolist()):
        assert torch.equal(out[i], padded[i, :, dy:dy + 8, dx:dx + 8])


def test_batched_augment_split_over_processes_equals_whole():
    x = torch.randint(0, 256, (8, 3, 12, 12), dtype=torch.uint8)
    augment = BatchAugment(["cifar", "pca-lighting"], channels=3)
    whole = augment(x, step_generator(1, 2, 3), 8, 0, [])
    halves = [augment(x[s:s + 4], step_generator(1, 2, 3), 8, s, []) for s in (0, 4)]
    assert torch.equal(whole, torch.cat(halves))
    assert not torch.equal(whole, augment(x, step_generator(1, 2, 4), 8, 0, []))


def test_flip_flips_about_half_and_only_left_right():
    x = torch.arange(64 * 4, dtype=torch.uint8).view(64, 1, 2, 2)
    out = BatchAugment(["flip"], channels=1)(x, step_generator(0, 0, 0), 64, 0, [])
    flipped = [not torch.equal(a, b) for a, b in zip(out, x, strict=True)]
    assert all(torch.equal(a, b) or torch.equal(a, b.flip(-1)) for a, b in zip(out, x,
                                                                                strict=True))
    assert 16 < sum(flipped) < 48
    assert np.isclose(out.float().mean(), x.float().mean())


def test_unknown_or_misapplied_names_are_errors():
    with pytest.raises(CnnlabError, match="unknown augmentation 'alexnett'"):
        train_transform(["alexnett"], 32)
    with pytest.raises(CnnlabError, match="needs RGB"):
        BatchAugment(["pca-lighting"], channels=1)
