"""The worked examples of the lecture slides "Convolutional Neural Network", as data.

Only inputs live here; the expected answers are asserted in tests/convolution, each next to the
slide it comes from.

The curve detector: the lecture prints the filter twice. The first print ("Feature Extractor") is
7x7 with its 30s on a curve (row 0 col 5, row 1 col 4, rows 2-5 col 3); the second print is an
8x8 copy whose top 30 sits one column further right. Only the 7x7 filter reproduces the slide's
sum, (50*30)+(50*30)+(50*30)+(20*30)+(50*30) = 6600: with the 8x8 copy the receptive field's
top-right 30 would add 30*30 = 900. The receptive fields are printed 8 rows tall; the 7x7 filter
covers their top-left 7x7, which is what we keep.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cnnlab.convolution.kernels import get_kernel
from cnnlab.errors import CnnlabError

_BINARY_IMAGE = [[1, 1, 1, 0, 0],
                 [0, 1, 1, 1, 0],
                 [0, 0, 1, 1, 1],
                 [0, 0, 1, 1, 0],
                 [0, 1, 1, 0, 0]]
_X_FILTER = [[1, 0, 1], [0, 1, 0], [1, 0, 1]]

CURVE_FILTER = np.array([[0, 0, 0, 0, 0, 30, 0],
                         [0, 0, 0, 0, 30, 0, 0],
                         [0, 0, 0, 30, 0, 0, 0],
                         [0, 0, 0, 30, 0, 0, 0],
                         [0, 0, 0, 30, 0, 0, 0],
                         [0, 0, 0, 30, 0, 0, 0],
                         [0, 0, 0, 0, 0, 0, 0]], dtype=np.float64)
CURVE_PATCH = np.array([[0, 0, 0, 0, 0, 0, 30],
                        [0, 0, 0, 0, 50, 50, 50],
                        [0, 0, 0, 20, 50, 0, 0],
                        [0, 0, 0, 50, 50, 0, 0],
                        [0, 0, 0, 50, 50, 0, 0],
                        [0, 0, 0, 50, 50, 0, 0],
                        [0, 0, 0, 50, 50, 0, 0]], dtype=np.float64)
OTHER_PATCH = np.array([[0, 0, 0, 0, 0, 0, 0],
                        [0, 40, 0, 0, 0, 0, 0],
                        [40, 0, 40, 0, 0, 0, 0],
                        [40, 20, 0, 0, 0, 0, 0],
                        [0, 50, 0, 0, 0, 0, 0],
                        [0, 0, 50, 0, 0, 0, 0],
                        [25, 25, 0, 50, 0, 0, 0]], dtype=np.float64)


@dataclass(frozen=True)
class ConvExample:
    """An input plane, a kernel and the settings a slide uses."""

    name: str
    description: str
    image: np.ndarray
    kernel: np.ndarray
    stride: int = 1
    padding: int = 0


CONV_EXAMPLES: dict[str, ConvExample] = {e.name: e for e in [
    ConvExample("lecture", "the nine 'Computation' slides: 5x5 binary image, 3x3 X-shaped filter",
                np.array(_BINARY_IMAGE, dtype=np.float64), np.array(_X_FILTER, dtype=np.float64)),
    ConvExample("curve", "curve-detector filter on the matching receptive field",
                CURVE_PATCH, CURVE_FILTER),
    ConvExample("curve-other", "curve-detector filter on a receptive field without the curve",
                OTHER_PATCH, CURVE_FILTER),
    ConvExample("stride", "'Options of Convolution': 7x7 input, 3x3 filter, stride 2 "
                "(the slide gives no values; the input counts 0..48)",
                np.arange(49, dtype=np.float64).reshape(7, 7),
                np.array(_X_FILTER, dtype=np.float64), stride=2),
    ConvExample("padding", "'Zero Padding': 7x7 input, 3x3 filter, stride 1, pad 1 keeps 7x7",
                np.arange(49, dtype=np.float64).reshape(7, 7),
                np.array(_X_FILTER, dtype=np.float64), padding=1),
]}



@dataclass(frozen=True)
class FiltersExample:
    """A many-channel input (C, H, W), K filters (K, C, F, F) with biases, and the settings."""

    name: str
    description: str
    image: np.ndarray
    weights: np.ndarray
    bias: np.ndarray
    stride: int = 1
    padding: int = 0


def _small_integers(shape: tuple[int, ...], low: int, high: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(low, high + 1, shape).astype(np.float64)


# The slide "Convolution (Multi Channel, Many Filters)" draws 3 input channels and 2 filters
# but prints no numbers: small seeded integers stand in, with the layout of CS231n's demo that
# the slide follows (5x5x3 input, pad 1, two 3x3x3 filters, stride 2 -> 3x3x2).
FILTERS_EXAMPLE = FiltersExample(
    "channels", "3 input channels, 2 filters of 3x3x3, pad 1, stride 2 -> 3x3x2 "
    "(the slide prints no numbers; small seeded integers)",
    _small_integers((3, 5, 5), 0, 2, seed=3), _small_integers((2, 3, 3, 3), -1, 1, seed=4),
    np.array([1.0, 0.0]), stride=2, padding=1)



def _six_filters() -> tuple[list[str], np.ndarray]:
    # Three colour-selective 5x5 Gaussian blurs, then Sobel x, Sobel y and the Laplacian on
    # ITU-R 601 luma (each 3x3 kernel centred in 5x5): filters a learner can read in the maps.
    luma = np.array([0.299, 0.587, 0.114])
    names, filters = [], []
    blur = get_kernel("gaussian-blur-5x5").matrix
    for channel, colour in enumerate(("red", "green", "blue")):
        f = np.zeros((3, 5, 5))
        f[channel] = blur
        names.append(f"{colour} blur (5x5 Gaussian on the {colour} channel)")
        filters.append(f)
    for name in ("sobel-x", "sobel-y", "laplacian"):
        kernel = np.pad(get_kernel(name).matrix, 1)
        names.append(f"{name} on luma (3x3 centred in 5x5)")
        filters.append(luma[:, None, None] * kernel[None])
    return names, np.stack(filters)


# "if we had 6 5x5 filters, we'll get 6 separate activation maps ... 28x28x6" (the slide draws
# the maps without saying what the filters are): six readable filters of 5x5x3, (6, 3, 5, 5).
SIX_FILTER_NAMES, SIX_FILTERS = _six_filters()

# The slide "2x2 Max Pooling with Stride=1" prints no numbers: we pool the lecture's own
# 3x3 feature map from the conv example.
POOL_EXAMPLE = np.array([[4, 3, 4], [2, 4, 3], [2, 3, 4]], dtype=np.float64)


def conv_example(name: str) -> ConvExample:
    """One of CONV_EXAMPLES by name."""
    if name not in CONV_EXAMPLES:
        raise CnnlabError(f"unknown example {name!r}: choose one of {', '.join(CONV_EXAMPLES)}")
    return CONV_EXAMPLES[name]
