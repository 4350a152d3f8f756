"""Receptive fields (theoretical from the field arithmetic, effective from gradients) and top
patches."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from viz_models import IDENTITY_META, Detector, blobs, conv_stack

from cnnlab.complexity.receptive_field import receptive_field_map
from cnnlab.errors import CnnlabError
from cnnlab.visualize.top_patches import _crop, top_patches


@pytest.mark.parametrize("unit", [(4, 4), (0, 0), (7, 3)])
def test_effective_field_lies_inside_the_theoretical_one(unit):
    torch.manual_seed(2)
    x = torch.randn(1, 1, 16, 16)
    result = receptive_field_map(conv_stack(), x, "4", channel=1, y=unit[0], x_pos=unit[1])
    assert result.size == (9, 9) and result.jump == (2, 2)  # 3, then 3+2, then 5+2*2 pixels
    top, left, bottom, right = result.box
    inside = np.zeros_like(result.gradient, dtype=bool)
    inside[top:bottom, left:right] = True
    assert result.gradient[inside].sum() > 0
    assert np.all(result.gradient[~inside] == 0)
    assert result.inside_fraction() == pytest.approx(1.0, abs=1e-12)
    e_top, e_left, e_bottom, e_right = result.effective_box
    assert top <= e_top and left <= e_left and e_bottom <= bottom and e_right <= right


def test_centre_unit_box_matches_the_field_arithmetic():
    result = receptive_field_map(conv_stack(), torch.randn(1, 1, 16, 16), "4")
    # The 8x8 map's centre unit (4, 4) sits on input pixel 4 * jump 2 = 8: pixels 4..12.
    assert result.unit == (4, 4) and result.box == (4, 4, 13, 13)
    with pytest.raises(CnnlabError, match=r"unit \(9, 0\) is outside"):
        receptive_field_map(conv_stack(), torch.randn(1, 1, 16, 16), "4", y=9, x_pos=0)


def test_top_patches_come_from_the_images_that_excite_the_channel_most():
    images = torch.cat([blobs(red=(r, r), side=1) * level
                        for r, level in ((1, 1.0), (9, 3.0), (5, 2.0), (12, 0.2))])
    batches = [images[:3], images[3:]]
    result = top_patches(Detector(), "relu", 0, iter(batches), IDENTITY_META, top=2)
    assert result.sources == [1, 2] and result.units == [(9, 9), (5, 5)]
    assert result.activations == pytest.approx([2.5, 1.5])
    assert result.field_size == (1, 1) and result.boxes[0] == (9, 9, 10, 10)
    # Display clamps 3.0 to 1 and shows a 2-channel image as the mean of its channels.
    np.testing.assert_allclose(result.patches[0][..., 0], [[0.5]])


def test_crop_pads_outside_the_image_with_black():
    image = np.ones((4, 4, 3))
    patch = _crop(image, (-1, 2, 2, 6))
    assert patch.shape == (3, 4, 3)
    assert patch[0].sum() == 0 and patch[:, 2:].sum() == 0
    np.testing.assert_array_equal(patch[1:, :2], 1.0)
