"""Every window of a convolution or pooling (``cnnlab trace``), and their text."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from cnnlab.convolution.examples import (
    CURVE_FILTER,
    CURVE_PATCH,
    OTHER_PATCH,
    POOL_EXAMPLE,
    conv_example,
)
from cnnlab.convolution.steps import MAX_TRACE_STEPS, trace_conv, trace_layer, trace_pool
from cnnlab.convolution.steps_text import fmt, format_layer, format_steps
from cnnlab.errors import CnnlabError


def test_every_step_is_the_sum_of_its_products_and_matches_torch():
    rng = np.random.default_rng(0)
    image, kernel = rng.integers(-3, 4, (7, 8)).astype(float), rng.integers(-2, 3, (3, 2))
    trace = trace_conv(image, kernel, stride=2, padding=1, bias=0.5)
    theirs = F.conv2d(torch.tensor(image)[None, None], torch.tensor(kernel, dtype=torch.float64)
                      [None, None], torch.tensor([0.5], dtype=torch.float64), stride=2, padding=1)
    np.testing.assert_allclose(trace.output, theirs[0, 0].numpy())
    for step in trace.steps:
        np.testing.assert_array_equal(step.products, step.window * kernel)
        assert step.value == pytest.approx(step.products.sum() + 0.5)
    assert len(trace.steps) == trace.output.size


def test_text_shows_the_lectures_first_sum_and_the_feature_map():
    e = conv_example("lecture")
    text = format_steps(trace_conv(e.image, e.kernel))
    assert "1×1 + 1×0 + 1×1 + 0×0 + 1×1 + 1×0 + 0×1 + 0×0 + 1×1 = 4" in text
    assert text.count("out[") == 9
    assert text.rstrip().endswith("4 3 4\n  2 4 3\n  2 3 4")


def test_nonzero_only_lists_the_curve_detectors_five_products():
    text = format_steps(trace_conv(CURVE_PATCH, CURVE_FILTER), nonzero_only=True)
    line = next(row for row in text.splitlines() if "= 6600" in row)
    assert line.count("×") == 5 and "44 zero products not shown" in line


def test_padded_trace_prints_the_padded_input():
    text = format_steps(trace_conv(np.ones((2, 2)), np.ones((3, 3)), padding=1))
    assert "padded input:" in text and "0 0 0 0" in text


@pytest.mark.parametrize("op", ["max", "avg"])
def test_pool_trace_matches_torch(op):
    x = np.random.default_rng(1).standard_normal((5, 6))
    trace = trace_pool(x, 2, 1, padding=1, op=op)
    pool = F.max_pool2d if op == "max" else F.avg_pool2d
    np.testing.assert_allclose(trace.output, pool(torch.tensor(x)[None], 2, 1, 1)[0].numpy())


def test_lecture_pool_example_text():
    text = format_steps(trace_pool(POOL_EXAMPLE, 2, 1))
    assert "max(4, 3, 2, 4) = 4" in text and "output (2x2)" in text


def test_layer_trace_for_a_layer_too_big_to_run():
    layer = trace_layer((224, 224, 64), 64, 3, padding=1)
    assert layer.output_hwc == (224, 224, 64) and not layer.checked
    assert layer.macs == 224 * 224 * 64 * 3 * 3 * 64  # VGG-16 conv1_2: 1,849,688,064 MACs
    assert "not run" in format_layer(layer)


def test_lecture_layer_text():
    text = format_layer(trace_layer((32, 32, 3), 6, 5))
    assert "output 28x28x6" in text and "5*5*3 = 75 numbers" in text
    assert "450 weights + 6 biases = 456" in text


def test_too_long_traces_and_bad_input_are_refused():
    with pytest.raises(CnnlabError, match=f"at most {MAX_TRACE_STEPS}"):
        trace_conv(np.zeros((40, 40)), np.ones((3, 3)))
    with pytest.raises(CnnlabError, match="2D matrix"):
        trace_conv(np.zeros((2, 4, 4)), np.ones((3, 3)))
    with pytest.raises(CnnlabError, match="not an integer"):
        trace_conv(np.zeros((6, 6)), np.ones((3, 3)), stride=2)
    with pytest.raises(CnnlabError, match="unknown pooling"):
        trace_pool(np.zeros((4, 4)), op="median")


def test_fmt_writes_numbers_short():
    assert [fmt(v) for v in (4.0, -1.0, 1 / 9, -np.inf)] == ["4", "-1", "0.1111", "-inf"]


def test_curve_detector_on_the_other_patch_prints_all_zero():
    text = format_steps(trace_conv(OTHER_PATCH, CURVE_FILTER), nonzero_only=True)
    assert "(all 49 products are 0) = 0" in text
