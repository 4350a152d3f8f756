"""`augment=challenges`: half the images get one corruption; draws follow the step generator;
`--set augment=challenges` reads as one piece."""

from __future__ import annotations

import torch

from cnnlab.corruptions import CORRUPTIONS, corrupt
from cnnlab.corruptions.mixing import (
    CLEAN_SHARE,
    RandomChallenge,
    corrupt_picked,
    draw_picks,
)
from cnnlab.data.augment import AUGMENTATIONS, BatchAugment, step_generator, train_transform
from cnnlab.training.config import TrainConfig


def test_picks_leave_about_half_clean_and_cover_every_corruption():
    picks = draw_picks(20_000, torch.Generator().manual_seed(0))
    clean = float((picks == -1).float().mean())
    assert abs(clean - CLEAN_SHARE) < 0.02
    counts = torch.bincount(picks[picks >= 0], minlength=len(CORRUPTIONS))
    assert counts.min() > 0.8 * counts.float().mean()


def test_clean_picks_are_untouched_and_the_others_corrupted():
    x = torch.randint(0, 256, (40, 1, 28, 28), dtype=torch.uint8)
    picks = torch.tensor([-1, 0] * 20)
    out = corrupt_picked(x, picks, torch.Generator().manual_seed(1))
    assert out.dtype == torch.uint8 and out.shape == x.shape
    assert torch.equal(out[picks == -1], x[picks == -1])
    assert all(not torch.equal(out[i], x[i]) for i in (picks == 0).nonzero().flatten())
    # pick 0 is the table's first corruption, applied as corrupt() would
    severity_gen = torch.Generator().manual_seed(1)
    severity = int(torch.randint(1, 6, (1,), generator=severity_gen))
    expected = corrupt(x[picks == 0], next(iter(CORRUPTIONS)), severity, severity_gen)
    assert torch.equal(out[picks == 0], expected)


def test_batch_augment_is_deterministic_for_a_step():
    assert "challenges" in AUGMENTATIONS
    x = torch.randint(0, 256, (32, 1, 28, 28), dtype=torch.uint8)
    augment = BatchAugment(["challenges"], channels=1)
    a = augment(x, step_generator(0, 1, 2), 32, 0, [])
    b = augment(x, step_generator(0, 1, 2), 32, 0, [])
    c = augment(x, step_generator(0, 1, 3), 32, 0, [])
    assert torch.equal(a, b) and not torch.equal(a, c)
    changed = (a != x).flatten(1).any(1).float().mean()
    assert 0.25 < float(changed) < 0.75


def test_per_sample_pipeline_uses_the_same_mix():
    transform = train_transform(["challenges"], 28, channels=1)
    assert any(isinstance(t, RandomChallenge) for t in transform.transforms)
    image = torch.randint(0, 256, (1, 28, 28), dtype=torch.uint8)
    torch.manual_seed(3)
    first = transform(image)
    torch.manual_seed(3)
    assert torch.equal(transform(image), first) and first.shape == image.shape


def test_set_augment_string_is_one_piece():
    assert TrainConfig().replace({"augment": "challenges"}).augment == ["challenges"]
    assert TrainConfig().replace({"augment": "flip, challenges"}).augment == ["flip",
                                                                               "challenges"]
    assert TrainConfig().replace({"augment": ["cifar"]}).augment == ["cifar"]
