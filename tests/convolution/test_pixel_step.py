"""step_at: one output pixel of a whole-image filter, checked against the full trace
(`cnnlab trace conv`) and against apply_kernel's own output (OpenCV, SciPy, NumPy)."""

from __future__ import annotations

import numpy as np
import pytest

from cnnlab.convolution.apply import apply_kernel, resolve_padding
from cnnlab.convolution.pixel_step import step_at
from cnnlab.convolution.shapes import output_size, size_formula
from cnnlab.convolution.steps import trace_conv
from cnnlab.convolution.steps_text import format_steps
from cnnlab.errors import CnnlabError

RNG = np.random.default_rng(7)


@pytest.mark.parametrize(("stride", "padding"), [(1, 0), (1, 1), (2, 1), (2, 0), (3, 1)])
def test_every_step_equals_trace_conv_and_prints_its_lines(stride, padding):
    image = RNG.integers(0, 10, (7, 7)).astype(float)
    kernel = RNG.integers(-2, 3, (3, 3)).astype(float)
    trace = trace_conv(image, kernel, stride, padding)
    printed = format_steps(trace)
    for step in trace.steps:
        mine = step_at(image, kernel, step.row, step.col, stride, padding, "zero")
        np.testing.assert_array_equal(mine.step.window, step.window)
        assert mine.step.value == step.value
        assert "\n".join(mine.lines()) in printed  # the same text, line for line


@pytest.mark.parametrize("mode", ["zero", "reflect", "replicate"])
@pytest.mark.parametrize(("shape", "stride", "padding", "dilation"), [
    ((3, 3), 1, "same", 1), ((4, 4), 1, "same", 1), ((2, 5), 2, "same", 1),
    ((3, 3), 1, "valid", 2), ((5, 5), 3, 2, 1), ((1, 1), 1, "same", 1), ((4, 3), 2, 3, 2)])
def test_values_equal_apply_kernel_on_every_backend(mode, shape, stride, padding, dilation):
    image = RNG.integers(0, 256, (13, 11)).astype(np.uint8)
    kernel = RNG.normal(size=shape).round(3)
    for backend in ("opencv", "scipy", "numpy"):
        expected = apply_kernel(image, kernel, stride, padding, mode, dilation, backend)
        for row in range(expected.shape[0]):
            for col in range(expected.shape[1]):
                value = step_at(image, kernel, row, col, stride, padding, mode, dilation)
                assert value.step.value == pytest.approx(expected[row, col], abs=1e-3)


def test_dilated_window_reads_every_dth_pixel_of_the_padded_input():
    image = np.arange(49, dtype=float).reshape(7, 7)
    step = step_at(image, np.ones((3, 3)), 0, 0, padding=0, padding_mode="zero", dilation=3)
    np.testing.assert_array_equal(step.step.window, image[::3, ::3])
    assert step.lines()[0] == "out[0,0]: window rows 0-6, cols 0-6, every 3 (dilation)"


def test_outside_the_output_is_refused():
    with pytest.raises(CnnlabError, match=r"outside the 5x5 output"):
        step_at(np.zeros((5, 5)), np.ones((3, 3)), 5, 0)


@pytest.mark.parametrize(("size", "kernel", "stride", "padding", "dilation"), [
    (512, 3, 1, "same", 1), (512, 4, 1, "same", 1), (7, 3, 2, "valid", 1), (32, 5, 1, 2, 1),
    (227, 11, 4, "valid", 1), (10, 3, 3, 0, 1), (9, 3, 2, 1, 2), (6, 6, 4, "same", 1)])
def test_size_formula_matches_the_filtered_size(size, kernel, stride, padding, dilation):
    span = dilation * (kernel - 1) + 1
    pads = resolve_padding(padding, (span, span))[:2]
    out, text = size_formula(size, kernel, stride, pads, dilation)
    filtered = apply_kernel(np.zeros((size, 3)), np.ones((kernel, 1)), stride, padding, "zero",
                            dilation)
    assert out == filtered.shape[0]
    assert text.endswith(f"= {out}")
    if pads[0] == pads[1]:
        assert out == output_size(size, kernel, stride, pads[0], dilation, rounding="floor")


def test_size_formula_text():
    assert size_formula(7, 3, 2, (0, 0)) == (3, "(7 - 3 + 2*0)/2 + 1 = 3")
    assert size_formula(8, 3, 2, (0, 0)) == (3, "floor((8 - 3 + 2*0)/2) + 1 = 3")
    assert size_formula(512, 4, 1, (1, 2)) == (512, "(512 - 4 + 1 + 2)/1 + 1 = 512")
