"""The worked examples of the lecture slides "Convolutional Neural Network", each with its slide."""

from __future__ import annotations

import numpy as np
import pytest

from cnnlab.convolution.examples import CURVE_FILTER, CURVE_PATCH, OTHER_PATCH, conv_example
from cnnlab.convolution.kernels import get_kernel
from cnnlab.convolution.reference import conv2d
from cnnlab.convolution.shapes import output_size
from cnnlab.convolution.steps import trace_conv, trace_layer


def test_binary_image_with_x_filter_gives_the_slides_feature_map():
    # Slides "2D Convolution Layer - Computation" (lecture lines 134-183): nine sums 4 3 4 2 4 3
    # 2 3 4.
    example = conv_example("lecture")
    trace = trace_conv(example.image, example.kernel)
    np.testing.assert_array_equal(trace.output, [[4, 3, 4], [2, 4, 3], [2, 3, 4]])
    # The first slide's sum, term by term: 1x1 + 1x0 + 1x1 + 0x0 + 1x1 + 1x0 + 0x1 + 0x0 + 1x1.
    first = trace.steps[0]
    np.testing.assert_array_equal(first.products.ravel(), [1, 0, 1, 0, 1, 0, 0, 0, 1])


def test_curve_detector_answers_6600_on_the_curve_and_0_elsewhere():
    # Lecture lines 264-295: "(50*30)+(50*30)+(50*30)+(20*30)+(50*30) = 6600" and "= 0".
    on_curve = trace_conv(CURVE_PATCH, CURVE_FILTER)
    assert on_curve.output.item() == 6600
    nonzero = sorted(p for p in on_curve.steps[0].products.ravel() if p)
    assert nonzero == [20 * 30] + [50 * 30] * 4
    assert trace_conv(OTHER_PATCH, CURVE_FILTER).output.item() == 0


def test_stride_2_on_7x7_gives_3x3_and_padding_1_keeps_7x7():
    # "7x7 input, 3x3 convolution filter with stride 2 -> 3x3 output" (line 340) and
    # "pad with 1 pixel border ... 7x7 output!" (lines 354-360).
    assert trace_conv(**_settings("stride")).output.shape == (3, 3)
    assert trace_conv(**_settings("padding")).output.shape == (7, 7)
    assert output_size(7, 3, stride=2) == 3
    assert output_size(7, 3, stride=1, padding=1) == 7


def _settings(name: str) -> dict:
    e = conv_example(name)
    return {"image": e.image, "kernel": e.kernel, "stride": e.stride, "padding": e.padding}


@pytest.mark.parametrize("size", [3, 5, 7])
def test_padding_f_minus_1_over_2_preserves_the_size(size):
    # "zero-padding with (F-1)/2 (will preserve size spatially)", F = 3, 5, 7 (lines 364-370).
    for width in (7, 32, 224):
        assert output_size(width, size, stride=1, padding=(size - 1) // 2) == width
    image = np.random.default_rng(size).standard_normal((1, 1, 9, 9))
    out = conv2d(image, np.ones((1, 1, size, size)), padding=(size - 1) // 2)
    assert out.shape == (1, 1, 9, 9)


def test_six_5x5x3_filters_on_32x32x3_give_28x28x6():
    # "if we had 6 5x5 filters, we'll get 6 separate activation maps ... 28x28x6!" (127-131).
    layer = trace_layer((32, 32, 3), filters=6, kernel=5)
    assert layer.output_hwc == (28, 28, 6)
    assert layer.checked
    assert layer.weights == 6 * 5 * 5 * 3


@pytest.mark.parametrize(("name", "rows"), [
    # "Convolution Filters (Hand Crafted)" (lines 58-90).
    ("sharpen", [[0, -1, 0], [-1, 5, -1], [0, -1, 0]]),
    ("sharpen-5x5", [[0, 0, 0, 0, 0], [0, 0, -1, 0, 0], [0, -1, 5, -1, 0], [0, 0, -1, 0, 0],
                     [0, 0, 0, 0, 0]]),
    ("laplacian", [[0, 1, 0], [1, -4, 1], [0, 1, 0]]),
    ("emboss", [[-2, -1, 0], [-1, 1, 1], [0, 1, 2]]),
])
def test_hand_crafted_kernels_are_the_lectures(name, rows):
    np.testing.assert_array_equal(get_kernel(name).matrix, rows)


def test_the_lectures_5x5_box_blur_is_a_3x3_block_of_ones_normalized():
    matrix = get_kernel("box-blur-5x5").matrix
    np.testing.assert_allclose(matrix * 9, np.pad(np.ones((3, 3)), 1))
