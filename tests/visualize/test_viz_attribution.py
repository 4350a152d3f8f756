"""Attributions on the hand-set Detector, where the right answer is known."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn
from viz_models import Detector, blobs, conv_stack

from cnnlab.errors import CnnlabError
from cnnlab.visualize.attribution import attribute, cam_map, gradient_map, plot_attribution


def test_guided_backprop_is_zero_where_relu_gates_are_closed():
    torch.manual_seed(0)
    x = torch.rand(1, 2, 12, 12)
    open_gate = (x[0, 0] > 0.5).numpy()   # ReLU(x - 0.5) passes only these pixels
    guided = gradient_map(Detector(), x, "guided-backprop", target=0).gradient[0]
    assert np.all(guided[~open_gate] == 0)
    assert np.all(guided[open_gate] > 0)
    assert np.all(gradient_map(Detector(), x, "guided-backprop", target=0).gradient[1] == 0)
    # The deconvnet gates on the gradient's sign only, not on the forward pass.
    deconv = gradient_map(Detector(), x, "deconvnet", target=0).gradient[0]
    assert np.all(deconv > 0)


class _FunctionalRelu(nn.Module):
    """A conv net that calls F.relu (as GoogLeNet's conv blocks do), next to its twin with
    nn.ReLU modules, the form Captum can hook."""

    def __init__(self, net: nn.Sequential) -> None:
        super().__init__()
        self.net = net

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for layer in self.net:
            x = F.relu(x) if isinstance(layer, nn.ReLU) else layer(x)
        return x


@pytest.mark.parametrize(("method", "captum_class"), [("guided-backprop", "GuidedBackprop"),
                                                      ("deconvnet", "Deconvolution")])
def test_relu_rules_equal_captum_and_also_reach_functional_relus(method, captum_class):
    import captum.attr

    torch.manual_seed(3)
    modules = nn.Sequential(*conv_stack(), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                            nn.Linear(4, 3)).eval()
    x = torch.randn(1, 1, 10, 10)
    ours = gradient_map(modules, x, method, target=2).gradient
    theirs = getattr(captum.attr, captum_class)(modules).attribute(x.clone(), target=2)
    np.testing.assert_allclose(ours, theirs[0].detach().numpy(), rtol=1e-5, atol=1e-8)
    functional = gradient_map(_FunctionalRelu(modules), x, method, target=2).gradient
    np.testing.assert_allclose(functional, ours, rtol=1e-5, atol=1e-8)
    plain = gradient_map(_FunctionalRelu(modules), x, "saliency", target=2).gradient
    assert np.abs(plain - ours).max() > 1e-4


def test_saliency_matches_autograd():
    torch.manual_seed(1)
    x = torch.rand(1, 2, 8, 8, requires_grad=True)
    Detector()(x)[0, 1].backward()
    result = gradient_map(Detector(), x.detach(), "saliency", target=1)
    np.testing.assert_allclose(result.gradient, x.grad[0].numpy(), rtol=1e-6)
    np.testing.assert_allclose(result.heat, x.grad[0].abs().amax(0).numpy(), rtol=1e-6)


@pytest.mark.parametrize("method", ["gradcam", "gradcam++"])
def test_cam_highlights_the_region_that_drives_the_class(method):
    x = blobs(red=(1, 2), blue=(10, 11))  # class 0 is driven top-left, class 1 bottom-right
    red = cam_map(Detector(), x, method, target=0)
    blue = cam_map(Detector(), x, method, target=1)
    assert red.layer == "relu"  # the last spatial layer of forward_features
    for result, (top, left) in ((red, (1, 2)), (blue, (10, 11))):
        y, xx = np.unravel_index(result.heat.argmax(), result.heat.shape)
        assert top <= y < top + 4 and left <= xx < left + 4
    assert red.heat[12, 13] == 0 and blue.heat[3, 4] == 0


def test_unit_target_projects_the_strongest_unit_of_a_channel():
    x = blobs(red=(5, 6), side=2)
    x[0, 0, 5, 6] = 3.0  # the strongest unit of channel 0
    result = attribute(Detector(), x, "guided-backprop", layer="relu", channel=0)
    assert result.target == {"kind": "unit", "layer": "relu", "channel": 0, "y": 5, "x": 6,
                             "activation": 2.5}
    nonzero = np.argwhere(result.heat > 0)
    assert nonzero.tolist() == [[5, 6]]  # a 1x1 conv: the unit sees only its own pixel


def test_bad_targets_raise_clear_errors(tmp_path):
    x = blobs()
    with pytest.raises(CnnlabError, match="channel 5 is out of range.*2 channels"):
        gradient_map(Detector(), x, "saliency", layer="relu", channel=5)
    with pytest.raises(CnnlabError, match="class 7 is out of range"):
        cam_map(Detector(), x, target=7)
    with pytest.raises(CnnlabError, match="unknown layer 'conv9'"):
        cam_map(Detector(), x, layer="conv9")
    image = np.zeros((16, 16, 3))
    assert plot_attribution(gradient_map(Detector(), x, "deconvnet"), image,
                            tmp_path / "d.png").stat().st_size > 500
