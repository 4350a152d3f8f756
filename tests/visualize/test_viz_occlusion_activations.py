"""Occlusion and activation maps on the hand-set Detector."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from viz_models import IDENTITY_META, Detector, blobs

from cnnlab.errors import CnnlabError
from cnnlab.visualize.activations import activation_maps
from cnnlab.visualize.occlusion import gray_value, occlusion_map


def test_occluding_the_only_informative_region_drops_the_score():
    x = blobs(red=(2, 3))
    result = occlusion_map(Detector(), x, IDENTITY_META, size=4, stride=2, target=0)
    assert result.target["probability"] > 0.5
    y, xx = np.unravel_index(result.drop.argmax(), result.drop.shape)
    assert 2 <= y < 6 and 3 <= xx < 7
    assert result.drop.max() > 0.1
    # Windows that never touch the square change nothing: gray (0.5) gives ReLU(0) = 0.
    assert np.all(result.drop[10:, 10:] == 0)


def test_gray_is_mid_gray_in_normalized_units():
    torch.testing.assert_close(gray_value({"normalization": {"mean": [0.5], "std": [0.25]}}, 1),
                               torch.tensor([0.0]))
    with pytest.raises(CnnlabError, match="occlusion square 40"):
        occlusion_map(Detector(), blobs(), IDENTITY_META, size=40)


def test_activation_maps_are_the_layer_output_ranked_by_mean():
    x = blobs(red=(0, 0), blue=(8, 8), side=2)
    x[0, 1, 8:10, 8:10] = 2.0  # blue is stronger: it ranks first
    maps = activation_maps(Detector(), "relu", x, top=2)
    assert maps.channels == [1, 0] and maps.shape == (2, 16, 16)
    expected = torch.relu(x[0] - 0.5)
    np.testing.assert_allclose(maps.maps, expected[[1, 0]].numpy())
    assert maps.means == pytest.approx([6 / 256, 2 / 256])
    chosen = activation_maps(Detector(), "relu", x, channels=[0])
    assert chosen.channels == [0]
    with pytest.raises(CnnlabError, match="channel 2 is out of range"):
        activation_maps(Detector(), "relu", x, channels=[2])
    with pytest.raises(CnnlabError, match="not feature maps"):
        activation_maps(Detector(), "fc", x)
