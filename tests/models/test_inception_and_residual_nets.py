"""GoogLeNet, Inception-v3, ResNet / ResNeXt / SE / SENet, CIFAR ResNets and
Inception-ResNet: parameter counts against published tables, outputs equal to torchvision's and
timm's models after loading their state dicts, auxiliary heads, and the papers' layer tables."""

from __future__ import annotations

import pytest
import timm
import torch
import torch.nn.functional as F
import torchvision
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from cnnlab.errors import CnnlabError
from cnnlab.models import (
    get_model,
    list_models,
    load_timm_weights,
    load_torchvision_weights,
    model_info,
)
from cnnlab.models.inception_resnet import from_timm_inception_resnet
from cnnlab.models.layers import SqueezeExcite
from cnnlab.models.senet import from_timm_legacy_senet
from cnnlab.models.weights import load_pretrained

# Exact parameter counts. Sources:
#   tv  = torchvision weights meta["num_params"] (e.g. ResNet50_Weights.IMAGENET1K_V1)
#   timm = timm.create_model(<name>, pretrained=False), counted (timm 1.0)
EXACT_PARAMS = {
    "resnet18": 11_689_512,  # tv
    "resnet34": 21_797_672,  # tv
    "resnet50": 25_557_032,  # tv
    "resnet101": 44_549_160,  # tv
    "resnet152": 60_192_808,  # tv
    "resnext50_32x4d": 25_028_904,  # tv
    "resnext101_32x8d": 88_791_336,  # tv
    "inception_v3": 27_161_264,  # tv (with the auxiliary head)
    "se_resnet50": 28_088_024,  # timm legacy_seresnet50
    "se_resnet101": 49_326_872,  # timm legacy_seresnet101
    "se_resnext50_32x4d": 27_559_896,  # timm legacy_seresnext50_32x4d
    "senet154": 115_088_984,  # timm legacy_senet154
    "inception_resnet_v2": 55_843_464,  # timm inception_resnet_v2
}
# He et al. 2015, Table 6: CIFAR-10 parameters in millions, as printed (rounded).
CIFAR_PARAMS_M = {"resnet20": 0.27, "resnet32": 0.46, "resnet44": 0.66, "resnet56": 0.85,
                  "resnet110": 1.7, "resnet1202": 19.4}
# torchvision weights meta["_ops"]: GMACs at the native size (torchvision calls them GFLOPS).
TORCHVISION_GMACS = {"resnet50": 4.089, "googlenet_bn": 1.498, "inception_v3": 5.713}


def _count(name: str, **options) -> int:
    with torch.device("meta"):
        return sum(p.numel() for p in get_model(name, **options).parameters())


@pytest.mark.parametrize("name", sorted(EXACT_PARAMS))
def test_parameter_count_is_published_count(name: str) -> None:
    assert _count(name) == EXACT_PARAMS[name]


def test_googlenet_bn_count_without_aux_is_torchvisions() -> None:
    # torchvision's meta["num_params"] counts the model without its aux heads (6,624,904).
    assert _count("googlenet_bn", aux_logits=False) == 6_624_904


@pytest.mark.parametrize("name", sorted(CIFAR_PARAMS_M))
def test_cifar_resnet_count_matches_table6(name: str) -> None:
    digits = 2 if CIFAR_PARAMS_M[name] < 1 else 1
    assert round(_count(name) / 1e6, digits) == CIFAR_PARAMS_M[name]
    plain = name.replace("resnet", "plain")
    if plain != "plain1202":  # option A shortcuts add no parameters
        assert _count(plain) == _count(name)


@pytest.mark.parametrize("name", sorted(TORCHVISION_GMACS))
def test_macs_match_torchvision_metadata(name: str) -> None:
    with torch.device("meta"):
        model = get_model(name).eval()
        size = 299 if name == "inception_v3" else 224
        with FlopCounterMode(display=False) as counter:
            model(torch.empty(1, 3, size, size))
    assert counter.get_total_flops() / 2 / 1e9 == pytest.approx(TORCHVISION_GMACS[name], abs=1e-3)


# --- equality with torchvision and timm -----------------------------------------------------

def _calibrated(model: nn.Module, x: torch.Tensor) -> nn.Module:
    """Give batch-norm layers data-derived running statistics (a fresh model's are 0 and 1,
    and the outputs then explode), so the comparison sees realistic values. Only the BN layers
    train: the model stays in eval mode, so no aux head or dropout runs."""
    model.eval()
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.momentum = None  # cumulative average over this one batch
            m.train()
    with torch.no_grad():
        model(x)
    return model.eval()


def _max_diff(ours: nn.Module, reference: nn.Module, x: torch.Tensor) -> float:
    with torch.no_grad():
        return (ours.eval()(x) - reference.eval()(x)).abs().max().item()


def _meta_state_shapes(model: nn.Module) -> dict[str, tuple[int, ...]]:
    return {k: tuple(v.shape) for k, v in model.state_dict().items()}


TORCHVISION_NAMES = {"resnet18": "resnet18", "resnet34": "resnet34", "resnet50": "resnet50",
                     "resnet101": "resnet101", "resnet152": "resnet152",
                     "resnext50_32x4d": "resnext50_32x4d", "resnext101_32x8d": "resnext101_32x8d",
                     "googlenet_bn": "googlenet", "inception_v3": "inception_v3"}


@pytest.mark.parametrize("name", sorted(TORCHVISION_NAMES))
def test_state_dict_keys_and_shapes_are_torchvisions(name: str) -> None:
    with torch.device("meta"):
        ours = get_model(name)
        tv_name = TORCHVISION_NAMES[name]
        options = {"init_weights": True} if tv_name in ("googlenet", "inception_v3") else {}
        reference = torchvision.models.get_model(tv_name, **options)
    assert list(_meta_state_shapes(ours).items()) == list(_meta_state_shapes(reference).items())


# Numerical equality on the distinct block types; the deeper twins differ only in stage counts
# (checked above by keys and shapes, and by the parameter-count table).
# (our name, our options, torchvision builder, its options, reduced input side)
TORCHVISION_PAIRS = [
    ("resnet18", {}, "resnet18", {}, 64),
    ("resnet50", {}, "resnet50", {}, 64),
    ("resnext101_32x8d", {"layers": [1, 1, 1, 1]}, "ResNet",
     {"block": torchvision.models.resnet.Bottleneck, "layers": [1, 1, 1, 1], "groups": 32,
      "width_per_group": 8}, 64),
    ("googlenet_bn", {"transform_input": True}, "googlenet",
     {"transform_input": True, "aux_logits": True, "init_weights": True}, 64),
    ("inception_v3", {"transform_input": True}, "inception_v3",
     {"transform_input": True, "aux_logits": True, "init_weights": True}, 139),
]


@pytest.mark.parametrize(("name", "options", "tv_builder", "tv_options", "side"),
                         TORCHVISION_PAIRS, ids=[p[0] for p in TORCHVISION_PAIRS])
def test_torchvision_state_dict_gives_equal_outputs(name, options, tv_builder, tv_options,
                                                    side) -> None:
    torch.manual_seed(0)
    x = torch.randn(2, 3, side, side)
    build = (torchvision.models.resnet.ResNet if tv_builder == "ResNet"
             else getattr(torchvision.models, tv_builder))
    reference = _calibrated(build(**tv_options), x)
    ours = load_torchvision_weights(get_model(name, **options), reference.state_dict())
    assert _max_diff(ours, reference, x) <= 1e-5


# (our name, our options, timm name, its options, reduced input side). The tiny SENet-154
# (one block per stage) keeps every distinct part: deep stem, halved 1x1, 3x3 shortcuts.
TIMM_PAIRS = [
    ("se_resnet50", {}, "legacy_seresnet50", {}, 64),
    ("se_resnet50", {"caffe": False}, "seresnet50", {}, 64),
    ("se_resnext50_32x4d", {}, "legacy_seresnext50_32x4d", {}, 64),
    ("se_resnext50_32x4d", {"caffe": False}, "seresnext50_32x4d", {}, 64),
    ("senet154", {"layers": [1, 1, 1, 1]}, "legacy_senet154", {"layers": [1, 1, 1, 1]}, 64),
    ("inception_resnet_v2", {}, "inception_resnet_v2", {}, 96),
]


@pytest.mark.parametrize(("name", "options", "timm_name", "timm_options", "side"), TIMM_PAIRS,
                         ids=[p[2] for p in TIMM_PAIRS])
def test_timm_state_dict_gives_equal_outputs(name, options, timm_name, timm_options,
                                             side) -> None:
    torch.manual_seed(0)
    x = torch.randn(2, 3, side, side)
    reference = _calibrated(timm.create_model(timm_name, pretrained=False, **timm_options), x)
    ours = load_timm_weights(get_model(name, **options), reference.state_dict())
    assert _max_diff(ours, reference, x) <= 1e-5


@pytest.mark.parametrize(("name", "timm_name"), [("se_resnet101", "legacy_seresnet101"),
                                                 ("senet154", "legacy_senet154")])
def test_full_depth_timm_keys_map_onto_ours(name: str, timm_name: str) -> None:
    with torch.device("meta"):
        ours = _meta_state_shapes(get_model(name))
        theirs = _meta_state_shapes(timm.create_model(timm_name, pretrained=False))
    assert from_timm_legacy_senet(theirs) == ours  # the converter only renames keys


def test_each_family_declares_its_key_conversion() -> None:
    converters = {name: model_info(name).convert_state for name in list_models()}
    assert {name for name, convert in converters.items() if convert is not None} == {
        "se_resnet50", "se_resnet101", "se_resnext50_32x4d", "senet154", "inception_resnet_v2"}
    assert converters["senet154"] is from_timm_legacy_senet
    assert converters["inception_resnet_v2"] is from_timm_inception_resnet


def test_paper_layout_differs_from_timm_v15_layout() -> None:
    # Same keys, different computation: the caffe flag really moves the stride (and the pool).
    torch.manual_seed(0)
    x = torch.randn(2, 3, 64, 64)
    reference = _calibrated(timm.create_model("seresnet50", pretrained=False), x)
    ours = load_timm_weights(get_model("se_resnet50", caffe=True), reference.state_dict())
    assert _max_diff(ours, reference, x) > 1e-3
    block = ours.layer2[0]
    assert block.conv1.stride == (2, 2) and block.conv2.stride == (1, 1)


def test_weights_file_and_mismatch(tmp_path) -> None:
    reference = torchvision.models.resnet18()
    path = tmp_path / "resnet18.pth"
    torch.save(reference.state_dict(), path)
    ours = load_torchvision_weights(get_model("resnet18"), path)
    assert torch.equal(ours.fc.weight, reference.fc.weight)
    with pytest.raises(CnnlabError, match="do not fit resnet34"):
        load_torchvision_weights(get_model("resnet34"), path)


@pytest.mark.parametrize("name", ["googlenet_bn", "inception_v3"])
def test_fine_tuning_load_replaces_main_and_aux_heads(name: str) -> None:
    tv_name = "googlenet" if name == "googlenet_bn" else name
    with torch.device("meta"):
        shapes = torchvision.models.get_model(tv_name, aux_logits=True, init_weights=True)
    state = {k: torch.zeros(v.shape, dtype=v.dtype) for k, v in shapes.state_dict().items()}
    model = load_pretrained(get_model(name, num_classes=10), state, new_head=True)
    heads = [model.fc, *model.aux_classifiers()]
    assert len(heads) == (3 if name == "googlenet_bn" else 2)
    assert all(h.out_features == 10 and h.weight.abs().sum() > 0 for h in heads)


def test_torchvision_googlenet_file_loads_without_aux_heads() -> None:
    state = torchvision.models.googlenet(aux_logits=True, init_weights=True).state_dict()
    model = load_torchvision_weights(get_model("googlenet_bn", aux_logits=False), state)
    assert model.aux1 is None and torch.equal(model.fc.weight, state["fc.weight"])


# --- auxiliary classifiers ------------------------------------------------------------------

@pytest.mark.parametrize("name", ["googlenet", "googlenet_bn"])
def test_googlenet_aux_outputs_in_training_only(name: str) -> None:
    torch.manual_seed(0)
    model = get_model(name, num_classes=7)
    x = torch.randn(2, 3, 224, 224)
    out = model.train()(x)
    assert isinstance(out, tuple) and [o.shape for o in out] == [(2, 7)] * 3
    with torch.no_grad():
        eval_out = model.eval()(x)
    assert isinstance(eval_out, torch.Tensor) and eval_out.shape == (2, 7)
    model.reset_classifier(4)
    assert [o.shape for o in model.train()(x)] == [(2, 4)] * 3
    plain = get_model(name, aux_logits=False).train()
    assert isinstance(plain(x), torch.Tensor)


def test_inception_v3_aux_output_in_training_only() -> None:
    torch.manual_seed(0)
    model = get_model("inception_v3", num_classes=5)
    x = torch.randn(2, 3, 299, 299)
    main, aux = model.train()(x)
    assert main.shape == aux.shape == (2, 5)
    with torch.no_grad():
        assert model.eval()(x[:1]).shape == (1, 5)


def test_aux_heads_equal_torchvisions() -> None:
    torch.manual_seed(0)
    google = torchvision.models.googlenet(aux_logits=True, init_weights=True).eval()
    ours = load_torchvision_weights(get_model("googlenet_bn"), google.state_dict()).eval()
    inception = torchvision.models.inception_v3(aux_logits=True, init_weights=True).eval()
    ours_v3 = load_torchvision_weights(get_model("inception_v3"), inception.state_dict()).eval()
    with torch.no_grad():
        x14, x17 = torch.randn(2, 528, 14, 14), torch.randn(2, 768, 17, 17)
        assert torch.allclose(ours.aux2(x14), google.aux2(x14), atol=1e-5)
        assert torch.allclose(ours_v3.AuxLogits(x17), inception.AuxLogits(x17), atol=1e-5)


# --- the papers' tables ---------------------------------------------------------------------

# Szegedy et al. 2014, Table 1: module -> (input channels, map side, (#1x1, #3x3 reduce, #3x3,
# #5x5 reduce, #5x5, pool proj), output channels, params column in K, ops column in M).
GOOGLENET_TABLE1 = {
    "inception3a": (192, 28, (64, 96, 128, 16, 32, 32), 256, 159, 128),
    "inception3b": (256, 28, (128, 128, 192, 32, 96, 64), 480, 380, 304),
    "inception4a": (480, 14, (192, 96, 208, 16, 48, 64), 512, 364, 73),
    "inception4b": (512, 14, (160, 112, 224, 24, 64, 64), 512, 437, 88),
    "inception4c": (512, 14, (128, 128, 256, 24, 64, 64), 512, 463, 100),
    "inception4d": (512, 14, (112, 144, 288, 32, 64, 64), 528, 580, 119),
    "inception4e": (528, 14, (256, 160, 320, 32, 128, 128), 832, 840, 170),
    "inception5a": (832, 7, (256, 160, 320, 32, 128, 128), 832, 1072, 54),
    "inception5b": (832, 7, (384, 192, 384, 48, 128, 128), 1024, 1388, 71),
}


def _inception_weights(cin: int, widths: tuple[int, ...]) -> int:
    c1, r3, c3, r5, c5, proj = widths
    return cin * c1 + cin * r3 + r3 * c3 * 9 + cin * r5 + r5 * c5 * 25 + cin * proj


def test_googlenet_modules_follow_table1() -> None:
    with torch.device("meta"):
        model = get_model("googlenet").eval()
        shapes = {}
        for name in GOOGLENET_TABLE1:
            model.get_submodule(name).register_forward_hook(
                lambda m, i, o, name=name: shapes.__setitem__(name, tuple(o.shape[1:])))
        model(torch.empty(1, 3, 224, 224))
    for name, (cin, side, widths, cout, params_k, ops_m) in GOOGLENET_TABLE1.items():
        assert shapes[name] == (cout, side, side)
        module = model.get_submodule(name)
        weights = sum(p.numel() for n, p in module.named_parameters() if n.endswith("weight"))
        assert weights == _inception_weights(cin, widths)
        # Table 1's own columns are rounded and not all consistent (5a is ~5% off its widths).
        assert weights / 1024 == pytest.approx(params_k, rel=0.08)
        assert weights * side * side / 1e6 == pytest.approx(ops_m, rel=0.06)


def test_googlenet_is_the_paper_variant() -> None:
    model = get_model("googlenet")
    assert not any(isinstance(m, nn.BatchNorm2d) for m in model.modules())
    lrns = [m for m in model.modules() if isinstance(m, nn.LocalResponseNorm)]
    assert [(m.size, m.alpha, m.beta, m.k) for m in lrns] == [(5, 1e-4, 0.75, 1.0)] * 2
    assert model.inception3a.branch3[1].conv.kernel_size == (5, 5)
    aux = model.aux1
    assert (aux.conv.conv.out_channels, aux.fc1.out_features, aux.dropout.p) == (128, 1024, 0.7)
    # Stem + Table 1 rows + both aux heads (1x1 conv 128, FC 1024, FC 1000), weights + biases.
    stem = (3 * 64 * 49 + 64) + (64 * 64 + 64) + (64 * 192 * 9 + 192) + (1024 * 1000 + 1000)
    rows = sum(_inception_weights(cin, w) + sum(w) for cin, _, w, *_ in GOOGLENET_TABLE1.values())
    aux_heads = sum(cin * 128 + 128 + 2048 * 1024 + 1024 + 1024 * 1000 + 1000 for cin in (512, 528))
    assert _count("googlenet") == stem + rows + aux_heads
    assert _count("googlenet", aux_logits=False) == stem + rows


def test_cifar_resnet_layout_and_option_a_shortcut() -> None:
    model = get_model("resnet20").eval()
    with torch.no_grad():
        x = torch.randn(2, 3, 32, 32)
        assert model.forward_features(x).shape == (2, 64, 8, 8)
        block = model.layer2[0]  # 16 -> 32 channels, 32x32 -> 16x16
        nn.init.zeros_(block.bn2.weight)  # the residual branch now outputs zeros
        h = torch.randn(2, 16, 32, 32)
        expected = F.relu(F.pad(h[:, :, ::2, ::2], (0, 0, 0, 0, 0, 16)))
        assert torch.equal(block(h), expected)
        plain = get_model("plain20").eval().layer2[0]
        nn.init.zeros_(plain.bn2.weight)
        assert torch.equal(plain(h), torch.zeros(2, 32, 16, 16))
    convs = [m for m in model.modules() if isinstance(m, nn.Conv2d)]
    assert len(convs) + 1 == 20 and all(c.kernel_size == (3, 3) for c in convs)


def test_squeeze_excite_matches_functional_formula() -> None:
    torch.manual_seed(0)
    se = SqueezeExcite(64, reduction=16)
    x = torch.randn(2, 64, 5, 5)
    squeeze = x.mean((2, 3))  # N x 64
    hidden = F.relu(F.linear(squeeze, se.fc1.weight.flatten(1), se.fc1.bias))  # N x 4
    gate = torch.sigmoid(F.linear(hidden, se.fc2.weight.flatten(1), se.fc2.bias))
    assert torch.allclose(se(x), x * gate[:, :, None, None], atol=1e-6)


def test_resnet_v15_stride_and_se_option() -> None:
    resnet = get_model("resnet50")
    assert resnet.layer2[0].conv2.stride == (2, 2) and resnet.layer2[0].conv1.stride == (1, 1)
    se = get_model("se_resnext50_32x4d")
    blocks = [m for m in se.modules() if isinstance(m, SqueezeExcite)]
    assert len(blocks) == 3 + 4 + 6 + 3 and blocks[0].fc1.out_channels == 256 // 16
    assert se.layer1[0].conv2.groups == 32 and resnet.layer1[0].se is None
