"""The batch normalize (cnnlab.data.memory.normalize) against torchvision's v2 ToDtype +
Normalize, and its reuse of the previous batch's memory."""

from __future__ import annotations

import pytest
import torch
from torchvision.transforms.v2 import functional as F

from cnnlab.data.memory import normalize

MEAN, STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)


def _images(n: int = 4, size: int = 16, channels: int = 3) -> torch.Tensor:
    return torch.randint(0, 256, (n, channels, size, size), dtype=torch.uint8,
                         generator=torch.Generator().manual_seed(n * size))


@pytest.mark.parametrize("channels_last", [False, True])
def test_normalize_matches_torchvision(channels_last):
    images = _images()
    expected = F.normalize(F.to_dtype(images, torch.float32, scale=True), list(MEAN), list(STD))
    out = normalize(images, MEAN, STD, channels_last)
    assert out.dtype == torch.float32 and out.shape == images.shape
    assert out.is_contiguous(memory_format=torch.channels_last if channels_last
                             else torch.contiguous_format)
    torch.testing.assert_close(out, expected, rtol=0, atol=1e-6)


def test_one_channel_sets_normalize_too():
    images = _images(channels=1)
    expected = (images.float() / 255 - 0.2860) / 0.3530
    torch.testing.assert_close(normalize(images, (0.2860,), (0.3530,)), expected,
                               rtol=0, atol=1e-6)


@pytest.mark.parametrize("channels_last", [False, True])
def test_out_is_reused_and_gives_the_same_values(channels_last):
    first, second = _images(), _images(n=4, size=16).flip(0)
    buffer = normalize(first, MEAN, STD, channels_last)
    fresh = normalize(second, MEAN, STD, channels_last)
    again = normalize(second, MEAN, STD, channels_last, out=buffer)
    assert again.data_ptr() == buffer.data_ptr()  # written into the previous batch
    assert torch.equal(again, fresh)


def test_an_out_that_does_not_fit_is_not_used():
    images = _images()
    for unfit in (torch.empty(2, 3, 16, 16), torch.empty(4, 3, 16, 16, dtype=torch.float64),
                  torch.empty(4, 3, 16, 16).contiguous(memory_format=torch.channels_last)):
        out = normalize(images, MEAN, STD, out=unfit)
        assert out.data_ptr() != unfit.data_ptr()
        assert torch.equal(out, normalize(images, MEAN, STD))
    last_batch = _images(n=3)  # a smaller last batch of an epoch
    assert normalize(last_batch, MEAN, STD, out=normalize(images, MEAN, STD)).shape[0] == 3
