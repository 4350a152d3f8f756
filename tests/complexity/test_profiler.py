"""Profiler counts against hand computation, the lecture's AlexNet numbers and torchvision's
published GMACs."""

from __future__ import annotations

import pytest
import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from cnnlab.complexity.profiler import profile
from cnnlab.errors import CnnlabError
from cnnlab.runs import meta_model, parse_input_size


class Tiny(nn.Module):
    """conv3x3(3->4, bias) -> ReLU -> maxpool2 -> grouped conv1x1(4->4, groups 2) + skip ->
    flatten -> FC(64->5)."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1)
        self.relu = nn.ReLU(inplace=True)
        self.pool = nn.MaxPool2d(2)
        self.group = nn.Conv2d(4, 4, 1, groups=2, bias=False)
        self.fc = nn.Linear(64, 5)

    def forward(self, x):
        x = self.pool(self.relu(self.conv(x)))
        x = x + self.group(x)
        return self.fc(torch.flatten(x, 1))


def test_tiny_network_by_hand():
    p = profile(Tiny(), (3, 8, 8), batch=2)
    rows = {r.name: r for r in p.rows}
    # conv: 4 filters of 3x3x3 = 108 weights + 4 biases; 8x8x4 outputs x 27 MACs, per image
    assert (rows["conv"].weights, rows["conv"].biases) == (108, 4)
    assert rows["conv"].macs == 2 * 8 * 8 * 4 * 27
    # grouped 1x1: each output sees 4 / 2 = 2 channels: 4x4x4 outputs x 2 MACs
    assert rows["group"].weights == 8 and rows["group"].macs == 2 * 4 * 4 * 4 * 2
    assert rows["fc"].weights == 320 and rows["fc"].biases == 5 and rows["fc"].macs == 2 * 320
    # the residual addition is a functional row of its own: one other-op per element, no MACs
    assert rows["add()"].macs == 0 and rows["add()"].other_ops == 2 * 64
    assert rows["relu"].activations == 0  # in place: no new memory
    assert rows["pool"].other_ops == 2 * 64 * 4  # 2x2 window per output
    assert p.params == 108 + 4 + 8 + 320 + 5
    assert p.macs == 2 * (6912 + 128 + 320)
    # input 192 + conv 256 + pool 64 + group 64 + add 64 + fc 5 values per image, 4 bytes each
    assert p.activation_count() == 192 + 256 + 64 + 64 + 64 + 5
    assert p.activation_bytes() == 4 * p.activation_count()
    assert p.share("params", "fc") == pytest.approx(325 / 445)
    assert p.share("macs", "conv") == pytest.approx((6912 + 128) / 7360)
    assert rows["conv"].cum_params == 112 and rows["fc"].cum_macs == p.macs


def test_dtype_and_training_memory():
    half = profile(Tiny().half(), (3, 8, 8))
    full = profile(Tiny(), (3, 8, 8))
    assert half.dtype == "float16" and 2 * half.activation_bytes() == full.activation_bytes()
    mem = full.training_memory("adam")
    assert mem["parameters"] == mem["gradients"] == 445 * 4
    assert mem["optimizer_state"] == 2 * 445 * 4
    assert mem["total"] == full.activation_bytes() + 4 * 445 * 4
    assert full.training_memory("sgd")["optimizer_state"] == 0
    with pytest.raises(CnnlabError, match="optimizer"):
        full.training_memory("rmsprop")


@pytest.fixture(scope="module")
def alexnet():
    model, size = meta_model("alexnet")
    return profile(model, size)


def test_alexnet_matches_the_lecture(alexnet):
    # Krizhevsky et al. 2012 as cnnlab builds it: 60,965,224 parameters, ~724.4M MACs;
    # the lecture's table: params 3.8% conv / 96.2% FC, ops 91.9% / 8.1%.
    assert alexnet.input_size == (3, 227, 227)
    assert alexnet.params == 60_965_224
    assert round(alexnet.macs / 1e6, 1) == 724.4
    assert round(100 * alexnet.share("params", "conv"), 1) == 3.8
    assert round(100 * alexnet.share("params", "fc"), 1) == 96.2
    assert round(100 * alexnet.share("macs", "conv"), 1) == 91.9
    assert round(100 * alexnet.share("macs", "fc"), 1) == 8.1


@pytest.mark.parametrize(("name", "gmacs", "digits"), [
    # torchvision's model docs ("GFLOPS" column, which counts multiply-adds), weights tables
    ("alexnet_owt", 0.714, 3), ("vgg16", 15.47, 2), ("googlenet_bn", 1.498, 3),
    ("resnet50", 4.089, 3),
])
def test_torchvision_published_gmacs(name, gmacs, digits):
    model, _ = meta_model(name)
    assert round(profile(model, (3, 224, 224)).macs / 1e9, digits) == gmacs


def test_macs_are_half_of_torch_flop_counter():
    model, size = meta_model("resnet50")
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        model.eval()(torch.empty(1, *size, device="meta"))
    assert 2 * profile(model, size).macs == counter.get_total_flops()


def test_large_input_costs_no_memory():
    model, _ = meta_model("vgg16")
    p = profile(model, (3, 1024, 1024))
    assert p.activation_bytes() > 1e9  # what a real forward pass would need...
    assert next(model.parameters()).is_meta  # ...but nothing was allocated


def test_blocks_group_inception_modules_and_stages():
    model, size = meta_model("googlenet")
    p = profile(model, size)
    blocks = {b.name: b for b in p.blocks}
    assert "inception3a" in blocks and "aux1" not in blocks  # aux heads do not run in eval
    inside = sum(r.macs for r in p.rows if r.name.startswith("inception3a."))
    assert blocks["inception3a"].macs == inside and blocks["inception3a"].shape == (256, 28, 28)
    assert p.params_not_run > 0
    model, size = meta_model("resnet18")
    assert [b.name for b in profile(model, size).blocks] == ["layer1", "layer2", "layer3",
                                                             "layer4"]


@pytest.mark.parametrize(("text", "expected"), [
    ("3x224x224", (3, 224, 224)), ("96", (3, 96, 96)), ("64x32", (3, 64, 32)),
])
def test_parse_input_size(text, expected):
    assert parse_input_size(text, 3) == expected


@pytest.mark.parametrize("text", ["abc", "3x224x", "0x10x10", "3x-1x4", ""])
def test_malformed_input_size(text):
    with pytest.raises(CnnlabError, match="--input"):
        parse_input_size(text, 3)


def test_bad_models_and_sizes():
    with pytest.raises(CnnlabError, match="unknown model"):
        meta_model("alexnett")
    model, _ = meta_model("alexnet")
    with pytest.raises(CnnlabError, match="too small"):
        profile(model, (3, 32, 32))
    with pytest.raises(CnnlabError, match="channel"):
        meta_model("alexnet", "1x227x227")
