"""Applying kernels to images: every backend against scipy.ndimage and torch conv2d."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import ndimage

from cnnlab.convolution.apply import FILTER_BACKENDS, apply_kernel, responses_to_pixels
from cnnlab.convolution.kernels import KERNELS, custom_kernel, list_kernels
from cnnlab.errors import CnnlabError

# Our border names -> scipy.ndimage modes (scipy's "reflect" repeats the edge pixel; ours, like
# torch's and OpenCV's default, does not, which scipy calls "mirror").
SCIPY_MODES = {"zero": "constant", "reflect": "mirror", "replicate": "nearest"}
TORCH_MODES = {"zero": "constant", "reflect": "reflect", "replicate": "replicate"}


def _photo(shape=(23, 31, 3), seed=0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, shape).astype(np.uint8)


@pytest.mark.parametrize("backend", FILTER_BACKENDS)
@pytest.mark.parametrize("border", ["zero", "reflect", "replicate"])
@pytest.mark.parametrize("kernel", [k for k in list_kernels() if k.is_linear])
def test_same_padding_matches_scipy_correlate_per_channel(backend, border, kernel):
    image = _photo()
    ours = apply_kernel(image, kernel, padding_mode=border, backend=backend)
    theirs = ndimage.correlate(image.astype(np.float64), kernel.matrix[:, :, None],
                               mode=SCIPY_MODES[border], cval=0.0)
    np.testing.assert_allclose(ours, theirs, atol=1e-2)


def test_cnns_correlate_while_scipy_convolve_flips_the_kernel():
    image = _photo((12, 12), seed=1).astype(np.float64)
    sobel = KERNELS["sobel-x"]
    ours = apply_kernel(image, sobel, padding_mode="replicate")
    flipped = ndimage.convolve(image, sobel.matrix[::-1, ::-1], mode="nearest")
    np.testing.assert_allclose(ours, flipped, atol=1e-3)
    # Sobel is antisymmetric: convolving with the unflipped kernel negates the answer.
    np.testing.assert_allclose(ours, -ndimage.convolve(image, sobel.matrix, mode="nearest"),
                               atol=1e-3)


def test_sobel_magnitude_matches_scipy_sobel():
    image = _photo((20, 17), seed=2).astype(np.float64)
    theirs = np.hypot(ndimage.sobel(image, axis=0, mode="mirror"),
                      ndimage.sobel(image, axis=1, mode="mirror"))
    ours = apply_kernel(image, KERNELS["sobel-magnitude"], padding_mode="reflect")
    np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-2)


@st.composite
def filter_cases(draw):
    kh, kw = draw(st.integers(1, 5)), draw(st.integers(1, 5))
    dilation, stride = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    span = (dilation * (kh - 1) + 1, dilation * (kw - 1) + 1)
    border = draw(st.sampled_from(["zero", "reflect", "replicate"]))
    padding = draw(st.integers(0, 3))
    low = max(span) + 1 if border != "reflect" else max(max(span), padding) + 1
    h, w = draw(st.integers(low, 14)), draw(st.integers(low, 14))
    channels = draw(st.sampled_from([0, 1, 3, 5]))
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    image = rng.integers(0, 256, (h, w, channels) if channels else (h, w)).astype(np.uint8)
    return image, rng.standard_normal((kh, kw)), stride, padding, border, dilation


@settings(max_examples=40, deadline=None)
@given(filter_cases(), st.sampled_from(FILTER_BACKENDS))
def test_stride_padding_dilation_match_torch_conv2d(case, backend):
    image, matrix, stride, padding, border, dilation = case
    ours = apply_kernel(image, matrix, stride, padding, border, dilation, backend)
    planes = torch.from_numpy(image.astype(np.float64))
    planes = planes[None, None] if image.ndim == 2 else planes.permute(2, 0, 1)[:, None]
    padded = F.pad(planes, (padding,) * 4, mode=TORCH_MODES[border])
    theirs = F.conv2d(padded, torch.from_numpy(matrix)[None, None], stride=stride,
                      dilation=dilation)
    theirs = theirs[0, 0] if image.ndim == 2 else theirs[:, 0].permute(1, 2, 0)
    np.testing.assert_allclose(ours, theirs.numpy(), rtol=1e-4, atol=1e-2)


@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel")
def test_same_padding_with_an_even_kernel_keeps_the_size_like_torch():
    image = _photo((9, 10), seed=3).astype(np.float64)
    matrix = np.random.default_rng(4).standard_normal((2, 4))
    theirs = F.conv2d(torch.from_numpy(image)[None, None], torch.from_numpy(matrix)[None, None],
                      padding="same")[0, 0].numpy()
    for backend in FILTER_BACKENDS:
        np.testing.assert_allclose(apply_kernel(image, matrix, backend=backend), theirs,
                                   atol=1e-2)


def test_large_kernels_agree_across_backends():
    # OpenCV switches to a DFT above 11x11; the answer must not change.
    image = _photo((40, 37, 3), seed=5)
    matrix = np.random.default_rng(6).standard_normal((13, 15))
    results = [apply_kernel(image, matrix, backend=b, padding_mode="zero") for b in FILTER_BACKENDS]
    for other in results[1:]:
        np.testing.assert_allclose(results[0], other, rtol=1e-4, atol=0.05)


def test_identity_returns_the_image_and_uint8_scale_is_kept():
    image = _photo()
    out = apply_kernel(image, KERNELS["identity"])
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, image)
    np.testing.assert_array_equal(responses_to_pixels(out, KERNELS["identity"]), image)


def test_display_modes():
    values = np.array([[-300.0, -10.0], [100.0, 400.0]])
    edge, blur = KERNELS["laplacian"], KERNELS["box-blur"]
    np.testing.assert_array_equal(responses_to_pixels(values, blur), [[0, 0], [100, 255]])
    np.testing.assert_array_equal(responses_to_pixels(values, edge), [[255, 10], [100, 255]])
    # minmax: (v + 300) / 700 * 255, rounded.
    np.testing.assert_array_equal(responses_to_pixels(values, mode="minmax"),
                                  [[0, 106], [146, 255]])
    assert responses_to_pixels(np.full((2, 2), 7.0), mode="minmax").max() == 0


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"stride": 0}, "stride must be >= 1"),
    ({"dilation": 0}, "dilation must be >= 1"),
    ({"padding": "wide"}, "use same, valid"),
    ({"padding": -1}, "padding must be >= 0"),
    ({"padding_mode": "wrap"}, "unknown padding mode"),
    ({"backend": "cuda"}, "unknown backend"),
    ({"padding": 5, "padding_mode": "reflect"}, "reflect padding"),
    ({"padding": "valid", "dilation": 3}, "larger than the padded"),
])
def test_bad_settings_raise_cnnlab_errors(kwargs, message):
    with pytest.raises(CnnlabError, match=message):
        apply_kernel(_photo((5, 5)), custom_kernel(np.ones((3, 3))), **kwargs)


def test_image_of_wrong_rank_is_refused():
    with pytest.raises(CnnlabError, match=r"\(H, W\) or \(H, W, C\)"):
        apply_kernel(np.zeros((2, 5, 5, 3)), KERNELS["sharpen"])
