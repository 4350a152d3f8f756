"""Each corruption's strength measured the way that fits it, against an oracle where one
exists: torchvision's rotate / affine for the geometry, the formula for the light, pixel
counts for the occluders."""

from __future__ import annotations

import itertools
import math

import pytest
import torch
from torchvision.transforms import InterpolationMode
from torchvision.transforms.v2 import functional as TF

from cnnlab.corruptions import corrupt, illumination, occlusion, viewpoint
from cnnlab.corruptions.clutter import CLUTTER, FOREGROUND
from cnnlab.corruptions.deformation import ELASTIC

BILINEAR = InterpolationMode.BILINEAR


def bar(n: int = 8, size: int = 28) -> torch.Tensor:
    """float N x 1 x H x W: a horizontal white bar through the centre, on black."""
    x = torch.zeros(n, 1, size, size)
    x[..., size // 2 - 2: size // 2 + 2, 4: size - 4] = 1.0
    return x


def orientation_degrees(x: torch.Tensor) -> torch.Tensor:
    """Angle of each image's principal axis from its second moments (degrees, image y down)."""
    n, _, h, w = x.shape
    ys, xs = torch.meshgrid(torch.arange(h).float(), torch.arange(w).float(), indexing="ij")
    mass = x[:, 0].sum((1, 2))
    cx = (x[:, 0] * xs).sum((1, 2)) / mass
    cy = (x[:, 0] * ys).sum((1, 2)) / mass
    dx, dy = xs - cx.view(n, 1, 1), ys - cy.view(n, 1, 1)
    mu20 = (x[:, 0] * dx * dx).sum((1, 2))
    mu02 = (x[:, 0] * dy * dy).sum((1, 2))
    mu11 = (x[:, 0] * dx * dy).sum((1, 2))
    return torch.rad2deg(0.5 * torch.atan2(2 * mu11, mu20 - mu02))


def closest(ours: torch.Tensor, candidates: list[torch.Tensor]) -> torch.Tensor:
    """Per image, the largest pixel difference to the nearest candidate."""
    return torch.stack([(ours - c).abs().amax((1, 2, 3)) for c in candidates]).amin(0)


@pytest.mark.parametrize("severity", [1, 2, 3, 4, 5])
def test_rotation_turns_a_bar_by_the_severity_angle(severity):
    x = bar()
    out = corrupt(x, "rotation", severity, 0)
    angle = viewpoint.ROTATION_DEGREES[severity - 1]
    measured = orientation_degrees(out).abs()
    assert torch.allclose(measured, torch.full_like(measured, angle), atol=1.0), measured
    # torchvision turns counter-clockwise for a positive angle; each image is one of the two
    both = [TF.rotate(x, a, interpolation=BILINEAR) for a in (angle, -angle)]
    assert float(closest(out, both).max()) < 1e-4


def test_shear_scale_translation_match_torchvision_affine():
    x = bar(16)
    k = viewpoint.SHEAR[2]
    sheared = corrupt(x, "shear", 3, 0)
    options = [TF.affine(x, angle=0.0, translate=[0, 0], scale=1.0,
                         shear=[s * math.degrees(math.atan(k)), 0.0], interpolation=BILINEAR)
               for s in (1, -1)]
    assert float(closest(sheared, options).max()) < 1e-4
    d = viewpoint.SCALE_CHANGE[3]
    scaled = corrupt(x, "scale", 4, 0)
    options = [TF.affine(x, angle=0.0, translate=[0, 0], scale=f, shear=[0.0, 0.0],
                         interpolation=BILINEAR) for f in (1 + d, 1 - d)]
    assert float(closest(scaled, options).max()) < 1e-4


@pytest.mark.parametrize("severity", [1, 3, 5])
def test_translation_moves_the_centroid_by_the_severity_distance(severity):
    x = torch.zeros(16, 1, 64, 64)
    x[..., 28:36, 28:36] = 1.0  # small enough to stay inside at every severity
    out = corrupt(x, "translation", severity, 0)
    ys, xs = torch.meshgrid(torch.arange(64).float(), torch.arange(64).float(), indexing="ij")

    def centroid(images):
        mass = images[:, 0].sum((1, 2))
        return torch.stack([(images[:, 0] * xs).sum((1, 2)) / mass,
                            (images[:, 0] * ys).sum((1, 2)) / mass], -1)

    moved = (centroid(out) - centroid(x)).norm(dim=1)
    expected = viewpoint.TRANSLATION[severity - 1] * 64
    assert torch.allclose(moved, torch.full_like(moved, expected), atol=0.05)


def test_perspective_moves_the_corners_by_up_to_the_severity_share():
    x = torch.ones(32, 1, 40, 40)
    lost = [1 - float(corrupt(x, "perspective", s, 0).mean()) for s in range(1, 6)]
    assert all(b > a > 0 for a, b in itertools.pairwise(lost)), lost


@pytest.mark.parametrize("severity", [1, 2, 3, 4, 5])
def test_light_follows_its_formula(severity):
    x = torch.rand(4, 1, 16, 16) * 0.5
    delta = illumination.BRIGHTNESS[severity - 1]
    assert torch.allclose(corrupt(x, "brightness", severity), (x + delta).clamp(0, 1))
    kept = illumination.CONTRAST[severity - 1]
    out = corrupt(x, "contrast", severity)
    ratio = out.std(dim=(1, 2, 3)) / x.std(dim=(1, 2, 3))
    assert torch.allclose(ratio, torch.full_like(ratio, kept), atol=1e-5)
    g = illumination.GAMMA[severity - 1]
    assert torch.allclose(corrupt(x, "gamma", severity), x.pow(g))


def test_brightness_raises_and_shadow_lowers_the_mean():
    x = torch.rand(8, 3, 16, 16) * 0.5 + 0.25
    means = [float(corrupt(x, "brightness", s).mean()) for s in range(6)]
    assert all(b > a for a, b in itertools.pairwise(means))
    shadows = [float(corrupt(x, "shadow", s, 1).mean()) for s in range(6)]
    assert all(b < a for a, b in itertools.pairwise(shadows))
    # the dark edge keeps 1 - loss of the light, the lit edge all of it
    flat = torch.ones(64, 1, 32, 32)
    out = corrupt(flat, "shadow", 5, 1)
    assert float(out.amin()) == pytest.approx(1 - illumination.SHADOW[4], abs=0.05)
    assert float(out.amax()) == pytest.approx(1.0, abs=0.05)


@pytest.mark.parametrize("name,table", [("erase", occlusion.ERASED),
                                        ("stripes", occlusion.STRIPED)])
@pytest.mark.parametrize("severity", [1, 3, 5])
def test_occluders_hide_the_severity_share(name, table, severity):
    x = torch.ones(16, 1, 40, 40)
    out = corrupt(x, name, severity, 4)
    hidden = (out == occlusion.OCCLUDER).float().mean(dim=(1, 2, 3))
    assert torch.allclose(hidden, torch.full_like(hidden, table[severity - 1]), atol=0.03)


def test_clutter_leaves_a_gray_object_untouched_and_fills_the_background():
    x = torch.zeros(8, 1, 28, 28)
    x[..., 8:20, 8:20] = 0.9  # above FOREGROUND: the object
    assert 0.9 > FOREGROUND
    for name in ("texture", "noise"):
        previous = 0.0
        for severity in range(1, 6):
            out = corrupt(x, name, severity, 2)
            assert torch.equal(out[..., 8:20, 8:20], x[..., 8:20, 8:20])
            background = out[..., :6, :]
            assert float(background.max()) <= CLUTTER[severity - 1] + 1e-6
            assert float(background.mean()) > previous
            previous = float(background.mean())


def test_clutter_on_colour_images_blends_with_the_severity_weight():
    x = torch.full((4, 3, 32, 32), 0.8)
    for severity in (1, 5):
        out = corrupt(x, "noise", severity, 0)
        w = CLUTTER[severity - 1]
        # the background is in [0, 1], so every pixel lies between (1 - w) x and (1 - w) x + w
        assert float(out.min()) >= (1 - w) * 0.8 - 1e-6
        assert float(out.max()) <= (1 - w) * 0.8 + w + 1e-6


def test_elastic_displacement_has_the_severity_rms():
    # linear ramps along x and along y: a displacement d changes a pixel by d / (side - 1),
    # so the RMS change of each reads the RMS displacement along that axis
    side = 64
    ramp_x = torch.linspace(0, 1, side).view(1, 1, 1, side).expand(64, 1, side, side)
    ramp_y = ramp_x.transpose(-1, -2)
    inner = (slice(None), slice(None), slice(12, -12), slice(12, -12))
    for severity in (1, 5):
        squares = [((corrupt(r.contiguous(), "elastic", severity, 3) - r)[inner] * (side - 1))
                   .pow(2).mean() for r in (ramp_x, ramp_y)]
        rms = float(((squares[0] + squares[1]) / 2).sqrt())
        assert rms == pytest.approx(ELASTIC[severity - 1] * side, rel=0.2)
