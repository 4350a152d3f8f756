"""FastNet.whiten_stem: the stem's filters whiten the images' patches (airbench's init)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from cnnlab.errors import CnnlabError
from cnnlab.models import get_model


def _smooth_images(n: int = 64, channels: int = 1, size: int = 16) -> torch.Tensor:
    """Neighbouring pixels correlated (a blurred noise field), so whitening has work to do."""
    noise = torch.randn(n, channels, size + 4, size + 4, generator=torch.Generator().manual_seed(0))
    blur = torch.ones(channels, 1, 3, 3) / 9
    return F.conv2d(noise, blur, groups=channels)[:, :, 1:-1, 1:-1] + 0.5


@pytest.mark.parametrize(("stem", "channels", "widths"), [
    ("conv3-pool", 1, (16, 32, 64)),  # 9-dim patches: 8 directions, each twice
    ("patch", 3, (24, 32, 64)),  # 12-dim patches: all 12 directions, airbench's own stem
])
def test_whitened_filters_decorrelate_the_patches(stem, channels, widths):
    model = get_model("fastnet", in_channels=channels, widths=widths, stem=stem)
    images = _smooth_images(channels=channels)
    model.whiten_stem(images, eps=1e-9)
    weight = model.stem[0].weight
    half = weight.shape[0] // 2
    assert torch.equal(weight[half:], -weight[:half]) and not weight.requires_grad
    out = F.conv2d(images, weight[:half])  # every unpadded patch, whatever the stem's stride
    flat = out.transpose(0, 1).reshape(half, -1).double()
    cov = flat @ flat.T / flat.shape[1]  # uncentred, as the covariance being whitened
    assert torch.allclose(cov, torch.eye(half, dtype=torch.float64), atol=1e-3)


def test_the_kept_directions_are_the_largest_ones():
    """Oracle: numpy's eigendecomposition of the same patch covariance."""
    model = get_model("fastnet", widths=(8, 32, 64), stem="conv3-pool")
    images = _smooth_images()
    model.whiten_stem(images)
    patches = F.unfold(images, 3).transpose(1, 2).reshape(-1, 9).double().numpy()
    evals, evecs = np.linalg.eigh(patches.T @ patches / len(patches))
    top = evecs[:, ::-1][:, :4].T  # the 4 largest, as rows
    got = model.stem[0].weight[:4].reshape(4, 9).double().numpy()
    got /= np.linalg.norm(got, axis=1, keepdims=True)
    assert np.allclose(np.abs((got * top).sum(axis=1)), 1.0, atol=1e-4)  # same axes, any sign
    scale = np.linalg.norm(model.stem[0].weight[:4].reshape(4, 9).numpy(), axis=1)
    assert np.allclose(scale, 1 / np.sqrt(evals[::-1][:4] + 5e-4), rtol=1e-3)


@pytest.mark.parametrize(("widths", "channels", "shape"), [
    ((20, 32, 64), 1, (4, 1, 16, 16)),  # 20 filters > 2 x 9
    ((15, 32, 64), 1, (4, 1, 16, 16)),  # odd: no +- pairs
    ((16, 32, 64), 1, (4, 3, 16, 16)),  # images of another channel count
])
def test_impossible_whitening_is_a_one_line_error(widths, channels, shape):
    model = get_model("fastnet", in_channels=channels, widths=widths, stem="conv3-pool")
    with pytest.raises(CnnlabError, match="whiten_stem: a stem of"):
        model.whiten_stem(torch.randn(shape))
