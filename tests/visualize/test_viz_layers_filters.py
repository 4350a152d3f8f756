"""Layer names and the filter grid: the grid shows exactly the kernels that were set."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn
from viz_models import conv_stack

from cnnlab.errors import CnnlabError
from cnnlab.models.feature_extraction import find_conv, find_layer, last_spatial_layer, layer_output
from cnnlab.visualize.filters import filter_grid, plot_filters


def _scaled(a: np.ndarray) -> np.ndarray:
    return (a - a.min()) / (a.max() - a.min())


def test_unknown_layer_lists_valid_names_and_close_match():
    with pytest.raises(CnnlabError, match=r"unknown layer '2x'.*valid names include 0, 1, 2"):
        find_layer(conv_stack(), "2x")
    model = nn.Sequential()
    model.add_module("features", nn.Sequential(nn.Conv2d(1, 1, 1)))
    with pytest.raises(CnnlabError, match="did you mean features"):
        find_layer(model, "featurs")


def test_non_conv_layer_is_refused_for_filters():
    with pytest.raises(CnnlabError, match="'1' is a ReLU, not a convolution; conv layers: 0, 2, 4"):
        find_conv(conv_stack(), "1")


def test_layer_output_stops_at_the_layer_and_matches_manual_forward():
    model = conv_stack()
    x = torch.randn(1, 1, 8, 8)
    expected = model[1](model[0](x))
    torch.testing.assert_close(layer_output(model, "1", x), expected)
    assert last_spatial_layer(model, (1, 8, 8)) == "4"


def test_gray_filter_grid_shows_the_set_kernels_in_order():
    conv = nn.Conv2d(1, 3, 3, bias=False)
    kernels = torch.tensor([[[1., 0, -1], [2, 0, -2], [1, 0, -1]],     # Sobel x
                            [[1., 2, 1], [0, 0, 0], [-1, -2, -1]],     # Sobel y
                            [[0., 0, 0], [0, 1, 0], [0, 0, 0]]])       # identity
    with torch.no_grad():
        conv.weight.copy_(kernels[:, None])
    grid = filter_grid(nn.Sequential(conv))
    assert grid.mode == "gray" and grid.tiles.shape == (3, 3, 3)
    for tile, kernel in zip(grid.tiles, kernels.numpy(), strict=True):
        np.testing.assert_allclose(tile, _scaled(kernel))
    assert grid.low == [-2.0, -2.0, 0.0] and grid.high == [2.0, 2.0, 1.0]


def test_rgb_filters_keep_colour_and_deep_filters_are_averaged(tmp_path):
    first = nn.Conv2d(3, 2, 2, bias=False)
    with torch.no_grad():
        first.weight.zero_()
        first.weight[0, 0] = 1.0   # filter 0 is pure red
        first.weight[1, 2] = 1.0   # filter 1 is pure blue
    grid = filter_grid(nn.Sequential(first))
    assert grid.mode == "rgb" and grid.tiles.shape == (2, 2, 2, 3)
    np.testing.assert_array_equal(grid.tiles[0][..., 0], 1.0)
    np.testing.assert_array_equal(grid.tiles[0][..., 1:], 0.0)
    np.testing.assert_array_equal(grid.tiles[1][..., 2], 1.0)
    deep = nn.Conv2d(4, 2, 3)
    averaged = filter_grid(nn.Sequential(deep))
    np.testing.assert_allclose(averaged.tiles[1], _scaled(deep.weight[1].detach().mean(0).numpy()),
                               rtol=1e-5)
    sliced = filter_grid(nn.Sequential(deep), input_channel=2, limit=1)
    assert sliced.filters == [0]
    np.testing.assert_allclose(sliced.tiles[0], _scaled(deep.weight[0, 2].detach().numpy()),
                               rtol=1e-5)
    with pytest.raises(CnnlabError, match="channel 4 is out of range"):
        filter_grid(nn.Sequential(deep), input_channel=4)
    png = plot_filters(grid, tmp_path / "f.png")
    assert png.stat().st_size > 500
