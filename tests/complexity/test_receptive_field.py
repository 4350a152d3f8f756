"""Receptive fields against a gradient measurement on a real forward pass.

The oracle: give every weight a positive value, swap max pooling for average pooling (a max
routes the gradient to one input only), feed ones in float64, and back-propagate from one output
unit. The input pixels with a non-zero gradient are exactly the unit's receptive field, clipped
to the image.
"""

from __future__ import annotations

import copy

import pytest
import torch
import torchvision
from torch import nn

from cnnlab.complexity.receptive_field import input_box, receptive_fields
from cnnlab.errors import CnnlabError
from cnnlab.models import get_model


def _positive_avg(model: nn.Module) -> nn.Module:
    model = copy.deepcopy(model).double().eval()
    for name, child in list(model.named_modules()):
        for attr, sub in list(child.named_children()):
            if isinstance(sub, nn.MaxPool2d):
                setattr(child, attr, nn.AvgPool2d(sub.kernel_size, sub.stride, sub.padding,
                                                  ceil_mode=sub.ceil_mode))
    with torch.no_grad():
        for p in model.parameters():
            p.fill_(1.0 / p[0].numel() if p.dim() > 1 else 0.5)
    return model


def measured_boxes(model: nn.Module, size: tuple[int, int, int], layer: str,
                   units: list[tuple[int, int]]) -> list[tuple[int, int, int, int]]:
    """(top, left, bottom, right) of the input pixels with a non-zero gradient, per unit."""
    model = _positive_avg(model)
    captured = {}
    module = dict(model.named_modules())[layer]
    handle = module.register_forward_hook(lambda m, i, o: captured.setdefault("out", o))
    image = torch.ones(1, *size, dtype=torch.float64, requires_grad=True)
    model(image)
    handle.remove()
    out, boxes = captured["out"], []
    for y, x in units:
        unit = out[0, :, y, x] if out.dim() == 4 else out[0]
        (grad,) = torch.autograd.grad(unit.sum(), image, retain_graph=True)
        rows, cols = torch.nonzero(grad[0].abs().sum(0) > 0, as_tuple=True)
        boxes.append((int(rows.min()), int(cols.min()), int(rows.max()), int(cols.max())))
    return boxes


class Inception(nn.Module):
    """Four branches of different reach, concatenated (GoogLeNet's module in miniature)."""

    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Conv2d(2, 4, 3, stride=2, padding=1)
        self.b1 = nn.Conv2d(4, 2, 1)
        self.b3 = nn.Sequential(nn.Conv2d(4, 2, 1), nn.Conv2d(2, 2, 3, padding=1))
        self.b5 = nn.Sequential(nn.Conv2d(4, 2, 1), nn.Conv2d(2, 2, 5, padding=2))
        self.pool = nn.Sequential(nn.MaxPool2d(3, 1, 1), nn.Conv2d(4, 2, 1))
        self.asym = nn.Sequential(nn.Conv2d(4, 2, (1, 7), padding=(0, 3)),
                                  nn.Conv2d(2, 2, (3, 1), padding=(1, 0)))
        self.head = nn.Conv2d(10, 3, 3, stride=2)

    def forward(self, x):
        x = self.stem(x)
        x = torch.cat([self.b1(x), self.b3(x), self.b5(x), self.pool(x), self.asym(x)], 1)
        return self.head(torch.relu(x))


class Residual(nn.Module):
    """A downsampling residual block and an SE-style gate (which makes the field global)."""

    def __init__(self, gate: bool = False) -> None:
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(2, 4, 3, stride=2, padding=1), nn.BatchNorm2d(4),
                                  nn.ReLU(), nn.Conv2d(4, 4, 3, padding=1))
        self.short = nn.Conv2d(2, 4, 1, stride=2)
        self.pool = nn.MaxPool2d(2)
        self.gate = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Conv2d(4, 4, 1), nn.Sigmoid())
        self.use_gate = gate

    def forward(self, x):
        y = self.body(x) + self.short(x)
        if self.use_gate:
            y = y * self.gate(y)
        return self.pool(y)


@pytest.mark.parametrize(("model", "size", "layer"), [
    (Inception(), (2, 23, 23), "head"),
    (Inception(), (2, 23, 23), "b5"),
    (Inception(), (2, 23, 23), "asym"),
    (Residual(), (2, 20, 20), "pool"),
    (Residual(gate=True), (2, 20, 20), "pool"),
])
def test_tiny_branching_nets_match_gradients(model, size, layer):
    fields = receptive_fields(model, size)
    grid = fields[layer].grid
    units = [(0, 0), (grid[0] // 2, grid[1] // 2), (grid[0] - 1, grid[1] - 1)]
    expected = [input_box(fields, layer, y, x) for y, x in units]
    assert expected == measured_boxes(model, size, layer, units)


def test_branching_takes_the_largest_path_with_its_jump():
    fields = receptive_fields(Inception(), (2, 23, 23))
    # stem 3x3/2 then the 5x5 branch: 3 + 4 * 2 = 11; the 1x7 then 3x1 branch: 7 rows, 15 cols
    assert fields["b5"].size == (11, 11) and fields["b5"].jump == (2, 2)
    assert fields["asym"].size == (7, 15)
    # after the concat the head (3x3/2) sees the widest branch on each axis (11 rows from the
    # 5x5 branch, 15 columns from the 1x7 one), plus 2 * 2
    assert fields["head"].size == (15, 19) and fields["head"].jump == (4, 4)
    gated = receptive_fields(Residual(gate=True), (2, 20, 20))
    assert gated["pool"].jump == (0, 0)  # every unit depends on the whole image after SE


@pytest.mark.parametrize(("name", "size", "layers"), [
    ("resnet18", (3, 64, 64), ["layer1", "layer2.0"]),
    ("googlenet", (3, 96, 96), ["inception3a"]),
])
def test_zoo_models_match_gradients(name, size, layers):
    model = get_model(name)
    fields = receptive_fields(model, size)
    for layer in layers:
        gy, gx = fields[layer].grid
        units = [(gy // 2, gx // 2), (0, gx - 1)]
        expected = [input_box(fields, layer, y, x) for y, x in units]
        assert expected == measured_boxes(model, size, layer, units)


def test_published_vgg16_fields():
    # Araujo et al. (Distill 2019), Table: VGG-16 conv5_3 r = 196, pool5 212 (jump 16 and 32)
    with torch.device("meta"):
        model = torchvision.models.vgg16()
    fields = receptive_fields(model, (3, 224, 224))
    assert fields["features.28"].size == (196, 196) and fields["features.28"].jump == (16, 16)
    assert fields["features.30"].size == (212, 212) and fields["features.30"].jump == (32, 32)


def test_bad_queries_raise_clear_errors():
    fields = receptive_fields(Residual(), (2, 20, 20))
    with pytest.raises(CnnlabError, match="outside"):
        input_box(fields, "pool", 5, 0)
    with pytest.raises(CnnlabError, match="no layer"):
        input_box(fields, "nope", 0, 0)
    with pytest.raises(CnnlabError, match="C x H x W"):
        receptive_fields(Residual(), (20, 20))
    with pytest.raises(CnnlabError, match="cannot run"):
        receptive_fields(Residual(), (2, 1, 1))


class StridedShortcut(nn.Module):
    """He et al.'s option A: the shortcut subsamples with x[:, :, ::2, ::2] and pads channels."""

    def __init__(self) -> None:
        super().__init__()
        self.body = nn.Conv2d(2, 4, 3, stride=2, padding=1)
        self.out = nn.Conv2d(4, 4, 3, padding=1)

    def forward(self, x):
        short = torch.nn.functional.pad(x[:, :, 1::2, ::2], (0, 0, 0, 0, 0, 2))
        return self.out(self.body(x) + short)


def test_strided_slice_shortcut_matches_gradients():
    model, size = StridedShortcut(), (2, 16, 16)
    fields = receptive_fields(model, size)
    assert fields["out"].jump == (2, 2)
    units = [(0, 0), (3, 4), (6, 7)]
    expected = [input_box(fields, "out", y, x) for y, x in units]
    assert expected == measured_boxes(model, size, "out", units)


def test_operator_without_a_rule_gives_a_marked_upper_bound():
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.Upsample(scale_factor=2), nn.Conv2d(2, 2, 1))
    fields = receptive_fields(model, (1, 10, 10))
    assert fields["0"].exact and not fields["1"].exact and not fields["2"].exact
    assert fields["2"].jump == (0, 0) and fields["2"].size == (10, 10)  # the whole input
