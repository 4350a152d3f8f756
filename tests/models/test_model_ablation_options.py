"""The model options the experiments use: one design choice each, checked by counting."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from cnnlab.errors import CnnlabError
from cnnlab.models import get_model


def test_smallcnn_default_keeps_its_checkpoint_keys():
    keys = list(get_model("smallcnn").state_dict())
    assert keys[:2] == ["features.0.weight", "features.1.weight"]
    assert "features.4.weight" in keys and "classifier.1.weight" in keys
    assert "classifier.4.weight" in keys and "features.0.bias" not in keys


def test_smallcnn_options_change_one_thing():
    tanh = get_model("smallcnn", activation="tanh", batch_norm=False, lrn=True)
    kinds = [type(m) for m in tanh.modules()]
    assert kinds.count(nn.Tanh) == 3 and nn.ReLU not in kinds  # two convs and the FC
    assert kinds.count(nn.LocalResponseNorm) == 2 and nn.BatchNorm2d not in kinds
    gap = get_model("smallcnn", head="gap", width=8)
    assert gap.classifier[-1].in_features == 16
    assert gap(torch.zeros(2, 1, 28, 28)).shape == (2, 10)
    with pytest.raises(CnnlabError, match="activation"):
        get_model("smallcnn", activation="sigmoid")


def test_cifar_resnet_se_adds_exactly_the_se_modules():
    plain = get_model("resnet20", in_channels=1)
    se = get_model("resnet20", in_channels=1, attn="se")
    extra = sum(p.numel() for p in se.parameters()) - sum(p.numel() for p in plain.parameters())
    # per block: C -> C/16 -> C conv 1x1 with biases; 3 blocks per stage of 16, 32, 64
    per_block = {c: c * (c // 16) + c // 16 + (c // 16) * c + c for c in (16, 32, 64)}
    assert extra == 3 * sum(per_block.values())
    narrow = get_model("plain20", widths=[4, 8, 16])
    assert narrow.fc.in_features == 16
    with pytest.raises(CnnlabError, match="attn"):
        get_model("resnet20", attn="cbam")


@pytest.mark.parametrize(("kernel", "layers", "per_stage"), [(5, 1, 25), (3, 2, 18), (7, 1, 49),
                                                             (3, 3, 27)])
def test_stacknet_stage_weights(kernel, layers, per_stage):
    net = get_model("stacknet", width=8, kernel=kernel, layers=layers)
    weights = sum(p.numel() for n, p in net.block2.named_parameters() if "conv" in n)
    assert weights == per_stage * 8 * 8


def test_inceptionnet_naive_depth_grows():
    naive = get_model("inceptionnet", reduce=False)
    reduced = get_model("inceptionnet", reduce=True)
    assert naive.fc.in_features == 32 + 2 * (16 + 32 + 8)  # the pool passes its input on
    assert reduced.fc.in_features == 16 + 32 + 8 + 8


def test_fastnet_stems_halve_the_input_and_differ_in_reach():
    patch = get_model("fastnet", widths=[4, 8, 16])
    pooled = get_model("fastnet", widths=[4, 8, 16], stem="conv3-pool")
    x = torch.randn(2, 1, 28, 28)
    assert patch.stem(x).shape == pooled.stem(x).shape == (2, 4, 14, 14)
    # a 2x2/2 patch sees 4 pixels; a 3x3 conv under a 2x2 pool sees a 4x4 window
    assert patch.stem[0].kernel_size == (2, 2) and pooled.stem[0].kernel_size == (3, 3)
    assert isinstance(pooled.stem[1], torch.nn.MaxPool2d)
    assert pooled(x).shape == (2, 10)
    with pytest.raises(CnnlabError, match="stem must be one of patch, conv3-pool"):
        get_model("fastnet", stem="whiten")


def test_fastnet_pool_grid_keeps_the_layout_of_the_last_map():
    net = get_model("fastnet", widths=[4, 8, 16], pool_grid=3)
    x = torch.randn(2, 1, 28, 28)
    features = net.forward_features(x)
    assert features.shape == (2, 16, 3, 3)
    assert torch.equal(net.forward_head(features, pre_logits=True), features.flatten(1))
    assert net.classifier.in_features == 16 * 9 and net(x).shape == (2, 10)
