"""NumPy reference layers against torch.nn.functional on randomized shapes (hypothesis)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from cnnlab.convolution import reference as ref
from cnnlab.errors import CnnlabError

TOL = 1e-5
FAST = settings(max_examples=40, deadline=None)


def _t(array: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(array)


@st.composite
def conv_cases(draw):
    groups = draw(st.integers(1, 3))
    c_in = groups * draw(st.integers(1, 2))
    c_out = groups * draw(st.integers(1, 3))
    kh, kw = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    dilation = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    padding = (draw(st.integers(0, 2)), draw(st.integers(0, 2)))
    h = draw(st.integers(dilation[0] * (kh - 1) + 1, 9))
    w = draw(st.integers(dilation[1] * (kw - 1) + 1, 9))
    seed = draw(st.integers(0, 2**16))
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((draw(st.integers(1, 2)), c_in, h, w))
    weight = rng.standard_normal((c_out, c_in // groups, kh, kw))
    bias = rng.standard_normal(c_out) if draw(st.booleans()) else None
    return x, weight, bias, stride, padding, dilation, groups


@FAST
@given(conv_cases())
def test_conv2d_matches_torch(case):
    x, weight, bias, stride, padding, dilation, groups = case
    ours = ref.conv2d(x, weight, bias, stride, padding, dilation, groups)
    theirs = F.conv2d(_t(x), _t(weight), None if bias is None else _t(bias), stride, padding,
                      dilation, groups)
    np.testing.assert_allclose(ours, theirs.numpy(), atol=TOL, rtol=TOL)


@FAST
@given(st.sampled_from(["reflect", "replicate"]), st.integers(0, 2), st.integers(0, 2**16))
def test_conv2d_padding_modes_match_torch_pad(mode, pad, seed):
    rng = np.random.default_rng(seed)
    x, weight = rng.standard_normal((1, 2, 5, 6)), rng.standard_normal((3, 2, 3, 3))
    ours = ref.conv2d(x, weight, padding=pad, padding_mode=mode)
    padded = F.pad(_t(x), (pad, pad, pad, pad), mode=mode)
    np.testing.assert_allclose(ours, F.conv2d(padded, _t(weight)).numpy(), atol=TOL)


@st.composite
def pool_cases(draw):
    k = draw(st.integers(1, 4))
    stride = draw(st.integers(1, 3))
    padding = draw(st.integers(0, k // 2))
    h, w = draw(st.integers(k, 10)), draw(st.integers(k, 10))
    x = np.random.default_rng(draw(st.integers(0, 2**16))).standard_normal((2, 3, h, w))
    return x, k, stride, padding


@FAST
@given(pool_cases())
def test_max_pool_matches_torch(case):
    x, k, stride, padding = case
    theirs = F.max_pool2d(_t(x), k, stride, padding).numpy()
    np.testing.assert_allclose(ref.max_pool2d(x, k, stride, padding), theirs, atol=TOL)


@FAST
@given(pool_cases(), st.booleans())
def test_avg_pool_matches_torch(case, include_pad):
    x, k, stride, padding = case
    theirs = F.avg_pool2d(_t(x), k, stride, padding, count_include_pad=include_pad).numpy()
    ours = ref.avg_pool2d(x, k, stride, padding, count_include_pad=include_pad)
    np.testing.assert_allclose(ours, theirs, atol=TOL)


@FAST
@given(st.integers(1, 4), st.integers(1, 7), st.integers(1, 5), st.integers(0, 2**16))
def test_relu_linear_softmax_match_torch(batch, features, outputs, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((batch, features)) * 10
    weight, bias = rng.standard_normal((outputs, features)), rng.standard_normal(outputs)
    np.testing.assert_allclose(ref.relu(x), F.relu(_t(x)).numpy())
    np.testing.assert_allclose(ref.linear(x, weight, bias),
                               F.linear(_t(x), _t(weight), _t(bias)).numpy(), atol=TOL)
    np.testing.assert_allclose(ref.softmax(x), F.softmax(_t(x), dim=-1).numpy(), atol=TOL)


def test_softmax_does_not_overflow_on_large_logits():
    probs = ref.softmax(np.array([1000.0, 1000.0, -1000.0]))
    np.testing.assert_allclose(probs, [0.5, 0.5, 0.0])


def test_stride_default_of_pooling_is_the_kernel():
    x = np.arange(16, dtype=np.float64).reshape(1, 1, 4, 4)
    np.testing.assert_array_equal(ref.max_pool2d(x, 2), [[[[5, 7], [13, 15]]]])


@pytest.mark.parametrize(("call", "message"), [
    (lambda: ref.conv2d(np.zeros((1, 3, 5, 5)), np.zeros((4, 2, 3, 3)), groups=2), "groups=2"),
    (lambda: ref.conv2d(np.zeros((3, 5, 5)), np.zeros((4, 3, 3, 3))), "(N,C,H,W)"),
    (lambda: ref.conv2d(np.zeros((1, 1, 2, 2)), np.zeros((1, 1, 3, 3))), "larger than"),
    (lambda: ref.max_pool2d(np.zeros((1, 1, 4, 4)), 2, padding=2), "at most half"),
    (lambda: ref.pad2d(np.zeros((2, 2)), 2, "reflect"), "reflect padding"),
    (lambda: ref.pad2d(np.zeros((2, 2)), 1, "wrap"), "unknown padding mode"),
    (lambda: ref.linear(np.zeros((2, 3)), np.zeros((4, 5))), "3 features"),
    (lambda: ref.conv2d(np.zeros((1, 1, 5, 5)), np.zeros((1, 1, 3, 3)), stride=0), ">= 1"),
    (lambda: ref.avg_pool2d(np.zeros((1, 1, 5, 5)), 2, stride=(1, 2, 3)), "pair of ints"),
])
def test_bad_shapes_raise_cnnlab_errors(call, message):
    with pytest.raises(CnnlabError, match=message.replace("(", r"\(").replace(")", r"\)")):
        call()
