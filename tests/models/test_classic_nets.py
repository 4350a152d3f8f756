"""AlexNet, ZFNet, VGG-F/M/S, VGG A-E and NIN against their papers, torchvision and the lecture.

Oracles: parameter counts from torchvision's weight metadata or counted by hand from the paper's
layer table (the formulas are written out below); operation counts from the lecture's table;
outputs of torchvision's own models after loading their state dicts; the AlexNet paper's LRN
formula written with plain tensor ops.
"""

from __future__ import annotations

import json

import pytest
import torch
import torchvision
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from cnnlab.cli import main
from cnnlab.errors import CnnlabError
from cnnlab.models import get_model, list_models, model_info
from cnnlab.models.layers import alexnet_lrn
from cnnlab.models.vgg import CONFIGS
from cnnlab.models.weights import load_torchvision_weights

ZOO_A = ["alexnet", "alexnet_owt", "zfnet", "zfnet_wide", "vgg_f", "vgg_m", "vgg_s", "vgg11",
         "vgg11_lrn", "vgg13", "vgg16_c", "vgg16", "vgg19", "vgg11_bn", "vgg13_bn", "vgg16_bn",
         "vgg19_bn", "nin"]
TORCHVISION_SHARED = ["alexnet_owt", "vgg11", "vgg13", "vgg16", "vgg19", "vgg11_bn", "vgg13_bn",
                      "vgg16_bn", "vgg19_bn"]
TORCHVISION_WEIGHTS = {"alexnet_owt": "AlexNet_Weights"} | {
    n: f"VGG{n[3:].replace('_bn', '')}{'_BN' if n.endswith('_bn') else ''}_Weights"
    for n in TORCHVISION_SHARED[1:]}


def conv(cin: int, cout: int, k: int, groups: int = 1) -> int:
    """Weights and biases of a k x k convolution."""
    return k * k * (cin // groups) * cout + cout


def fc(n_in: int, n_out: int) -> int:
    return n_in * n_out + n_out


FC_4096 = fc(4096, 4096)  # FC7
# Hand counts from each paper's layer table (module docstrings repeat the tables).
ALEXNET = (conv(3, 96, 11) + conv(96, 256, 5, 2) + conv(256, 384, 3) + conv(384, 384, 3, 2)
           + conv(384, 256, 3, 2) + fc(9216, 4096) + FC_4096 + fc(4096, 1000))
ZFNET = (conv(3, 96, 7) + conv(96, 256, 5) + conv(256, 384, 3) + conv(384, 384, 3)
         + conv(384, 256, 3) + fc(9216, 4096) + FC_4096 + fc(4096, 1000))
ZFNET_WIDE = (conv(3, 96, 7) + conv(96, 256, 5) + conv(256, 512, 3) + conv(512, 1024, 3)
              + conv(1024, 512, 3) + fc(18432, 4096) + FC_4096 + fc(4096, 1000))
VGG_F = (conv(3, 64, 11) + conv(64, 256, 5) + 3 * conv(256, 256, 3) + fc(9216, 4096) + FC_4096
         + fc(4096, 1000))
VGG_M = (conv(3, 96, 7) + conv(96, 256, 5) + conv(256, 512, 3) + 2 * conv(512, 512, 3)
         + fc(18432, 4096) + FC_4096 + fc(4096, 1000))
NIN = (conv(3, 96, 11) + 2 * conv(96, 96, 1) + conv(96, 256, 5) + 2 * conv(256, 256, 1)
       + conv(256, 384, 3) + 2 * conv(384, 384, 1) + conv(384, 1024, 3) + conv(1024, 1024, 1)
       + conv(1024, 1000, 1))
# C is D with the last conv of stages 3-5 at 1x1 instead of 3x3: 8 fewer weights per tap.
VGG_C_FROM_D = 8 * (256 * 256 + 2 * 512 * 512)

# name: (exact parameter count, where the number comes from)
PARAMETERS = {
    "alexnet": (60_965_224, "hand count ALEXNET from Krizhevsky et al. section 3.5, Figure 2"),
    "alexnet_owt": (61_100_840, "torchvision AlexNet_Weights.IMAGENET1K_V1 num_params"),
    "zfnet": (62_357_608, "hand count ZFNET from Zeiler & Fergus Fig. 3"),
    "zfnet_wide": (107_627_624, "hand count ZFNET_WIDE (Fig. 3 with 512-1024-512)"),
    "vgg_f": (60_834_536, "hand count VGG_F from Chatfield et al. Table 1"),
    "vgg_m": (102_908_520, "hand count VGG_M from Chatfield et al. Table 1"),
    "vgg_s": (102_908_520, "same layers as VGG-M, Chatfield et al. Table 1"),
    "vgg11": (132_863_336, "torchvision VGG11_Weights.IMAGENET1K_V1 num_params"),
    "vgg11_lrn": (132_863_336, "configuration A's count (LRN has no parameters)"),
    "vgg13": (133_047_848, "torchvision VGG13_Weights.IMAGENET1K_V1 num_params"),
    "vgg16_c": (133_638_952, "torchvision vgg16 count minus VGG_C_FROM_D"),
    "vgg16": (138_357_544, "torchvision VGG16_Weights.IMAGENET1K_V1 num_params"),
    "vgg19": (143_667_240, "torchvision VGG19_Weights.IMAGENET1K_V1 num_params"),
    "vgg11_bn": (132_868_840, "torchvision VGG11_BN_Weights.IMAGENET1K_V1 num_params"),
    "vgg13_bn": (133_053_736, "torchvision VGG13_BN_Weights.IMAGENET1K_V1 num_params"),
    "vgg16_bn": (138_365_992, "torchvision VGG16_BN_Weights.IMAGENET1K_V1 num_params"),
    "vgg19_bn": (143_678_248, "torchvision VGG19_BN_Weights.IMAGENET1K_V1 num_params"),
    "nin": (7_595_176, "hand count NIN from the released nin_imagenet model"),
}
HAND_COUNTS = {"alexnet": ALEXNET, "zfnet": ZFNET, "zfnet_wide": ZFNET_WIDE, "vgg_f": VGG_F,
               "vgg_m": VGG_M, "vgg_s": VGG_M, "nin": NIN,
               "vgg16_c": PARAMETERS["vgg16"][0] - VGG_C_FROM_D}
# The lecture's complexity table: parameters (M) and operations (M).
# Its "Ops" are multiply-adds plus one add per bias (checked below).
LECTURE = {"alexnet": (61, 725), "vgg_m": (103, 1678), "vgg_s": (103, 2640),
           "vgg16": (138, 15484), "vgg19": (144, 19647)}
VGG_PAPER_MILLIONS = {"vgg11": 133, "vgg11_lrn": 133, "vgg13": 133, "vgg16_c": 134, "vgg16": 138,
                      "vgg19": 144}  # Simonyan & Zisserman, Table 2


def _meta_model(name: str) -> nn.Module:
    with torch.device("meta"):
        return get_model(name).eval()


def _count(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def _macs_and_bias_adds(model: nn.Module, size: tuple[int, int, int]) -> tuple[int, int]:
    """Multiply-accumulates (torch's counter) and output elements of biased conv/FC layers."""
    outputs = []
    hooks = [m.register_forward_hook(lambda _m, _i, out: outputs.append(out.numel()))
             for m in model.modules() if isinstance(m, nn.Conv2d | nn.Linear)]
    counter = FlopCounterMode(display=False)
    with counter, torch.no_grad():
        model(torch.empty(1, *size, device="meta"))
    for hook in hooks:
        hook.remove()
    return counter.get_total_flops() // 2, sum(outputs)


def test_every_model_is_registered() -> None:
    assert set(ZOO_A) <= set(list_models())
    assert list_models("vgg1*_bn") == ["vgg11_bn", "vgg13_bn", "vgg16_bn", "vgg19_bn"]


@pytest.mark.parametrize("name", ZOO_A)
def test_parameter_count_is_exact(name: str) -> None:
    expected, _source = PARAMETERS[name]
    assert _count(_meta_model(name)) == expected
    if name in HAND_COUNTS:
        assert HAND_COUNTS[name] == expected


@pytest.mark.parametrize("name", TORCHVISION_SHARED)
def test_table_matches_torchvision_metadata(name: str) -> None:
    weights = getattr(torchvision.models, TORCHVISION_WEIGHTS[name]).IMAGENET1K_V1
    assert PARAMETERS[name][0] == weights.meta["num_params"]
    metrics = weights.meta["_metrics"]["ImageNet-1K"]
    reported = model_info(name).reported
    assert reported["torchvision_top1_acc"] == metrics["acc@1"]
    assert reported["torchvision_top5_acc"] == metrics["acc@5"]
    assert model_info(name).torchvision == name.replace("_owt", "")


def test_vgg_paper_table_2_millions() -> None:
    for name, millions in VGG_PAPER_MILLIONS.items():
        assert round(PARAMETERS[name][0] / 1e6) == millions


@pytest.mark.parametrize("name", sorted(LECTURE))
def test_lecture_complexity_table(name: str) -> None:
    params_m, ops_m = LECTURE[name]
    model = _meta_model(name)
    macs, bias_adds = _macs_and_bias_adds(model, model_info(name).input_size)
    assert round(_count(model) / 1e6) == params_m
    assert round((macs + bias_adds) / 1e6) == pytest.approx(ops_m, abs=1)


def test_alexnet_macs() -> None:
    # About 724M multiply-adds: the hand count of conv1..fc8 at 227x227 (Figure 2's map sizes).
    hand = (55 * 55 * 96 * 363 + 27 * 27 * 256 * 1200 + 13 * 13 * 384 * 2304
            + 13 * 13 * 384 * 1728 + 13 * 13 * 256 * 1728 + 9216 * 4096 + 4096 * 4096
            + 4096 * 1000)
    macs, _ = _macs_and_bias_adds(_meta_model("alexnet"), (3, 227, 227))
    assert macs == hand == 724_406_816


def test_lecture_differences_are_the_documented_ones() -> None:
    # VGG-F: the lecture's 99M / 762M follow if fc6 reads 6x6x512 (VGG-M's) instead of 6x6x256.
    model = _meta_model("vgg_f")
    macs, adds = _macs_and_bias_adds(model, (3, 224, 224))
    extra = 18432 * 4096 - 9216 * 4096
    assert round((_count(model) + extra) / 1e6) == 99
    assert round((macs + adds + extra) / 1e6) == 762
    # VGG-S: Table 1's conv2 padding of 1 would give 2,928M MACs; the released model's 0 gives
    # the lecture's 2640M operations (test_lecture_complexity_table).
    padded = _meta_model("vgg_s")
    padded.features[4].padding = (1, 1)
    assert _macs_and_bias_adds(padded, (3, 224, 224))[0] == 2_927_705_120
    # NIN: the released model at 224 has the lecture's 7.6M parameters but 1100M MACs, not 1168M.
    macs, adds = _macs_and_bias_adds(_meta_model("nin"), (3, 224, 224))
    assert round(PARAMETERS["nin"][0] / 1e5) == 76 and round(macs / 1e6) == 1100


def _feature_sizes(name: str) -> list[int]:
    """Spatial side after every conv and pool of ``features`` at the native input size."""
    model = _meta_model(name)
    sizes: list[int] = []
    for layer in model.features:
        if isinstance(layer, nn.Conv2d | nn.MaxPool2d):
            layer.register_forward_hook(lambda _m, _i, out: sizes.append(out.shape[-1]))
    model.forward_features(torch.empty(1, *model_info(name).input_size, device="meta"))
    return sizes


@pytest.mark.parametrize(("name", "sizes"), [
    ("alexnet", [55, 27, 27, 13, 13, 13, 13, 6]),  # Krizhevsky et al. Figure 2
    ("zfnet", [110, 55, 26, 13, 13, 13, 13, 6]),  # Zeiler & Fergus Figure 3
    ("vgg_f", [54, 27, 27, 13, 13, 13, 13, 6]),
    ("vgg_m", [109, 54, 26, 13, 13, 13, 13, 6]),
    ("vgg_s", [109, 37, 33, 17, 17, 17, 17, 6]),
    ("nin", [54, 54, 54, 27, 27, 27, 27, 13, 13, 13, 13, 6, 6, 6]),
])
def test_feature_map_sizes(name: str, sizes: list[int]) -> None:
    assert _feature_sizes(name) == sizes


def test_alexnet_two_gpu_groups_lrn_and_dropout() -> None:
    model = _meta_model("alexnet")
    convs = [m for m in model.features if isinstance(m, nn.Conv2d)]
    assert [c.groups for c in convs] == [1, 2, 1, 2, 2]
    assert [c.out_channels for c in convs] == [96, 256, 384, 384, 256]
    lrns = [m for m in model.features if isinstance(m, nn.LocalResponseNorm)]
    assert len(lrns) == 2 and all(m.size == 5 and m.k == 2 and m.beta == 0.75 for m in lrns)
    pools = [m for m in model.features if isinstance(m, nn.MaxPool2d)]
    assert all(p.kernel_size == 3 and p.stride == 2 for p in pools) and len(pools) == 3
    assert [m.p for m in model.classifier if isinstance(m, nn.Dropout)] == [0.5, 0.5]


def test_alexnet_lrn_is_the_papers_formula() -> None:
    # b = a / (k + alpha * sum over n=5 neighbouring maps of a^2)^beta, alpha = 1e-4 (sec. 3.3).
    lrn = alexnet_lrn()
    in_model = next(m for m in _meta_model("alexnet").features
                    if isinstance(m, nn.LocalResponseNorm))
    assert (in_model.size, in_model.alpha, in_model.beta, in_model.k) == (
        lrn.size, lrn.alpha, lrn.beta, lrn.k)
    # Activations of ~30 make alpha * sum comparable to k, so a wrong alpha convention shows.
    a = 30 * torch.randn(2, 12, 4, 4, dtype=torch.float64,
                         generator=torch.Generator().manual_seed(1))
    padded = torch.nn.functional.pad(a.square(), (0, 0, 0, 0, 2, 2))
    window_sums = sum(padded[:, i:i + 12] for i in range(5))
    expected = a / (2.0 + 1e-4 * window_sums) ** 0.75
    torch.testing.assert_close(lrn(a), expected, rtol=1e-12, atol=0)


def _perturbed_torchvision(name: str) -> nn.Module:
    """torchvision's model with random weights, biases and BN statistics (none left at 0/1)."""
    torch.manual_seed(0)
    model = getattr(torchvision.models, model_info(name).torchvision)(weights=None)
    generator = torch.Generator().manual_seed(1)
    with torch.no_grad():  # weights are random already; biases and BN tensors (1-D) are not
        for key, tensor in model.state_dict().items():
            if tensor.is_floating_point() and tensor.dim() == 1:
                noise = 0.1 * torch.rand(tensor.shape, generator=generator)
                tensor.add_(noise if "running_var" in key else noise - 0.05)
    return model.eval()


@pytest.mark.parametrize("name", TORCHVISION_SHARED)
def test_torchvision_state_dict_loads_and_outputs_match(name: str) -> None:
    reference = _perturbed_torchvision(name)
    ours = load_torchvision_weights(get_model(name), reference.state_dict()).eval()
    assert list(ours.state_dict()) == list(reference.state_dict())
    side = 64 if name == "alexnet_owt" else 32  # above each minimum; the check needs no more
    x = torch.randn(2, 3, side, side, generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        expected, got = reference(x), ours(x)
    assert expected.abs().max() > 1e-3  # a meaningful signal, not all zeros
    assert (got - expected).abs().max() <= 1e-5


def test_wrong_state_dict_is_a_clear_error() -> None:
    state = torchvision.models.alexnet(weights=None).state_dict()  # the one-tower layout
    with pytest.raises(CnnlabError, match="do not fit alexnet .*shape: features.0.weight"):
        load_torchvision_weights(get_model("alexnet"), state)


def test_vgg_configurations_follow_table_1() -> None:
    weight_layers = {"A": 11, "A-LRN": 11, "B": 13, "C": 16, "D": 16, "E": 19}
    for config, layers in weight_layers.items():
        assert sum(e.startswith("conv") for e in CONFIGS[config]) + 3 == layers
        assert CONFIGS[config].count("maxpool") == 5
    assert [e for e in CONFIGS["C"] if e.startswith("conv1-")] == ["conv1-256", "conv1-512",
                                                                  "conv1-512"]
    model = _meta_model("vgg16_c")
    assert sorted({m.kernel_size for m in model.features if isinstance(m, nn.Conv2d)}) == [
        (1, 1), (3, 3)]
    lrn = _meta_model("vgg11_lrn").features
    assert isinstance(lrn[2], nn.LocalResponseNorm) and isinstance(lrn[3], nn.MaxPool2d)
    bn = _meta_model("vgg16_bn").features
    assert sum(isinstance(m, nn.BatchNorm2d) for m in bn) == 13


def test_nin_has_no_fc_layer_and_a_conv_classifier() -> None:
    model = get_model("nin", num_classes=10).eval()
    assert not any(isinstance(m, nn.Linear) for m in model.modules())
    model.reset_classifier(4)
    assert isinstance(model.classifier, nn.Conv2d) and model.classifier.out_channels == 4
    with torch.no_grad():
        assert model(torch.randn(1, 3, 64, 64)).shape == (1, 4)


@pytest.mark.parametrize(("name", "size"), [("alexnet", (300, 250)), ("zfnet", (180, 200)),
                                            ("vgg_s", (96, 128)), ("nin", (48, 72))])
def test_other_input_sizes_and_channels(name: str, size: tuple[int, int]) -> None:
    model = get_model(name, num_classes=3, in_channels=1).eval()
    with torch.no_grad():
        out = model(torch.randn(1, 1, *size))
    assert out.shape == (1, 3) and torch.isfinite(out).all()


def test_cli_lists_and_describes(capsys) -> None:
    assert main(["models", "--json"]) == 0
    listed = {row["name"]: row for row in json.loads(capsys.readouterr().out)}
    assert set(ZOO_A) <= set(listed)
    assert listed["zfnet"]["paper"]["authors"].startswith("Matthew D. Zeiler")
    assert main(["models", "alexnet"]) == 0
    out = capsys.readouterr().out
    assert "60,965,224 parameters" in out and "Krizhevsky" in out
