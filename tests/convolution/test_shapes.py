"""Output-size arithmetic through layer stacks."""

from __future__ import annotations

import pytest

from cnnlab.convolution.shapes import output_size, parse_layer, parse_size, shape_stack
from cnnlab.errors import CnnlabError


def _stack(size: str, *layers: str, rounding: str = "strict"):
    return shape_stack(parse_size(size), [parse_layer(t) for t in layers], rounding)


def test_alexnet_conv1_needs_227_not_224():
    # AlexNet conv1 (lecture line 496): 96 filters 11x11 stride 4 -> 55x55x96 from 227x227x3.
    assert _stack("227x227x3", "conv:96,11,4,0")[0].output == (55, 55, 96)
    with pytest.raises(CnnlabError, match=r"54\.25 is not an integer.*input size 223 or 227"):
        _stack("224x224x3", "conv:96,11,4,0")
    assert _stack("224x224x3", "conv:96,11,4,0", rounding="floor")[0].output == (54, 54, 96)


def test_vgg16_block4_matches_the_lectures_memory_and_params():
    # Lecture lines 575-583: POOL2 [28x28x256]; CONV3-512 [28x28x512] memory 400K,
    # params (3x3x256)x512 = 1,179,648 then (3x3x512)x512 = 2,359,296; POOL2 [14x14x512].
    rows = _stack("28x28x256", "conv:512,3,1,1", "relu", "conv:512,3,1,1", "pool:2,2")
    assert [r.output for r in rows] == [(28, 28, 512), (28, 28, 512), (28, 28, 512),
                                        (14, 14, 512)]
    assert rows[0].activations == 28 * 28 * 512
    assert (rows[0].weights, rows[2].weights) == (1_179_648, 2_359_296)
    assert rows[0].biases == 512 and rows[3].weights == 0


def test_googlenet_max_pool_needs_ceil_or_padding():
    # Lecture line 722: max pool 3x3/2 takes 56x56 to 28x28, which (56 - 3)/2 + 1 only gives
    # with ceil rounding (GoogLeNet uses Caffe's ceil mode).
    with pytest.raises(CnnlabError, match="27.5 is not an integer"):
        _stack("56x56x192", "pool:3,2")
    assert _stack("56x56x192", "pool:3,2", rounding="ceil")[0].output == (28, 28, 192)
    assert _stack("56x56x192", "pool:3,2", rounding="floor")[0].output == (27, 27, 192)


def test_fc_flattens_and_counts_weights():
    rows = _stack("7x7x512", "fc:4096")
    assert rows[0].output == (1, 1, 4096)
    assert rows[0].weights == 7 * 7 * 512 * 4096  # VGG-16 FC6, lecture line 593: 102,760,448


def test_dilation_and_non_square_inputs():
    assert output_size(10, 3, dilation=2) == 6  # span 5: (10 - 5)/1 + 1
    rows = _stack("20x30x1", "conv:4,3,1,0,3")
    assert rows[0].output == (14, 24, 4)


def test_the_error_suggests_a_padding_that_fits():
    with pytest.raises(CnnlabError, match="fits with padding 1"):
        output_size(9, 3, stride=4)  # (9 - 3 + 2*1) / 4 is whole


@pytest.mark.parametrize(("text", "message"), [
    ("conv:3", "takes 2 to 5 numbers"),
    ("conv:a,3", "must be integers"),
    ("conv:0,3", "must be >= 1"),
    ("pool:2,0", "must be >= 1"),
    ("dropout", "unknown layer"),
    ("relu:3", "takes 0 to 0"),
])
def test_bad_layer_specs(text, message):
    with pytest.raises(CnnlabError, match=message):
        parse_layer(text)


@pytest.mark.parametrize("text", ["227", "0x5x3", "axb", "3x3x3x3"])
def test_bad_sizes(text):
    with pytest.raises(CnnlabError, match="H x W x C"):
        parse_size(text)


def test_window_larger_than_input():
    with pytest.raises(CnnlabError, match="larger than the padded input"):
        output_size(3, 5)


def test_pool_with_padding_counts_it():
    assert parse_layer("pool:3,2,1").padding == 1
    # ResNet's stem pool: (112 - 3 + 2)/2 + 1 = 56.5, which PyTorch floors to 56.
    assert _stack("112x112x64", "pool:3,2,1", rounding="floor")[0].output == (56, 56, 64)
    with pytest.raises(CnnlabError, match="56.5 is not an integer"):
        _stack("112x112x64", "pool:3,2,1")
