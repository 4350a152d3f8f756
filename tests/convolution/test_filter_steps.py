"""The many-channel, many-filter trace and the slide-style sum text."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from cnnlab.convolution.examples import FILTERS_EXAMPLE, SIX_FILTER_NAMES, SIX_FILTERS, conv_example
from cnnlab.convolution.reference import conv2d
from cnnlab.convolution.steps import trace_conv, trace_filters
from cnnlab.convolution.steps_text import sum_text
from cnnlab.errors import CnnlabError


def test_filters_example_gives_3x3x2_equal_to_torch():
    # The slide's layout: 3 input channels, 2 filters of 3x3x3, pad 1, stride 2 -> 3x3x2.
    e = FILTERS_EXAMPLE
    trace = trace_filters(e.image, e.weights, e.bias, e.stride, e.padding)
    expected = F.conv2d(torch.tensor(e.image)[None], torch.tensor(e.weights),
                        torch.tensor(e.bias), stride=2, padding=1)[0].numpy()
    assert trace.output.shape == (2, 3, 3)
    np.testing.assert_allclose(trace.output, expected)
    assert trace.checked
    # Each output value is the sum of one 2D trace per channel plus the filter's bias.
    per_channel = [plane.steps[4].value for plane in trace.planes[0]]
    assert sum(per_channel) + e.bias[0] == trace.output[0, 1, 1]


def test_filters_refuse_a_channel_mismatch():
    with pytest.raises(CnnlabError, match="same C"):
        trace_filters(np.zeros((3, 5, 5)), np.zeros((2, 2, 3, 3)))


def test_sum_text_writes_the_first_lecture_sum_as_the_slide():
    e = conv_example("lecture")
    first = trace_conv(e.image, e.kernel).steps[0]
    assert sum_text(first, e.kernel) == "1×1 + 1×0 + 1×1 + 0×0 + 1×1 + 1×0 + 0×1 + 0×0 + 1×1 = 4"


def test_six_filters_blur_keep_a_flat_colour_and_edges_give_zero():
    # On a flat colour every blur returns its own channel and every edge filter 0.
    image = np.stack([np.full((9, 9), v) for v in (200.0, 100.0, 50.0)])[None]
    maps = conv2d(image, SIX_FILTERS)[0]
    assert maps.shape == (6, 5, 5) and len(SIX_FILTER_NAMES) == 6
    np.testing.assert_allclose(maps[:3, 2, 2], [200, 100, 50])
    np.testing.assert_allclose(maps[3:], 0, atol=1e-9)
    # A vertical step in luma: Sobel x answers, Sobel y does not.
    step = np.zeros((3, 9, 9))
    step[:, :, 5:] = 100.0
    edges = conv2d(step[None], SIX_FILTERS)[0]
    assert edges[3].max() > 0 and np.allclose(edges[4], 0)
