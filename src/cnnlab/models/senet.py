"""SE-ResNet, SE-ResNeXt and SENet-154: Hu, Shen, Albanie, Sun & Wu (2017),
"Squeeze-and-Excitation Networks", Table 1 and Figure 3.

Each is a ResNet / ResNeXt of resnet.py with ``block_args=dict(attn="se")``: a
squeeze-and-excitation module (reduction 16, ``layers.SqueezeExcite``) on the residual branch of
every block, before the addition.

  name                 stages           blocks
  se_resnet50          [3, 4, 6, 3]     bottleneck
  se_resnet101         [3, 4, 23, 3]    bottleneck
  se_resnext50_32x4d   [3, 4, 6, 3]     bottleneck, 32 groups of width 4
  senet154             [3, 8, 36, 3]    bottleneck, 64 groups of width 4, halved first 1x1

Deviations: by default (``caffe=True``) the models follow Hu et al.'s released Caffe models,
which timm ports as ``legacy_se*``: a 3x3 stride-2 ceil-mode stem max pool without padding,
and in the SE-ResNets the stride on the first 1x1 of a bottleneck. SENet-154 has a three-conv
3x3 stem, 3x3 projection shortcuts and dropout 0.2. ``caffe=False`` gives timm's ResNet v1.5
re-implementations (``seresnet50``, ...): padded stem pool, stride on the 3x3. The keys of the
released models are converted on loading (``from_timm_legacy_senet``, declared in each model's
``ModelInfo.convert_state``).
"""

from __future__ import annotations

from typing import Any

from cnnlab.checkpoint import StateDict
from cnnlab.models.registry import ModelInfo, Paper, register_model
from cnnlab.models.resnet import Bottleneck, ResNet

_HU = Paper("Jie Hu, Li Shen, Samuel Albanie, Gang Sun, Enhua Wu", 2017,
            "Squeeze-and-Excitation Networks", "https://arxiv.org/abs/1709.01507")
_SE_CAFFE = ("Hu et al.'s released Caffe layout by default (unpadded ceil-mode stem pool; "
             "SE-ResNets stride on the first 1x1); caffe=False gives timm's re-implementation "
             "(padded stem pool, stride on the 3x3).")
_LEGACY_STEM = {"layer0.conv1.": "conv1.0.", "layer0.bn1.": "conv1.1.", "layer0.conv2.": "conv1.3.",
                "layer0.bn2.": "conv1.4.", "layer0.conv3.": "conv1.6.", "layer0.bn3.": "bn1."}


def from_timm_legacy_senet(state: StateDict) -> StateDict:
    """timm's ``legacy_se*`` / ``legacy_senet154`` keys (Cadene's port of Hu et al.'s Caffe
    models) -> ours: ``layer0.*`` -> ``conv1``/``bn1``, ``se_module`` -> ``se``,
    ``last_linear`` -> ``fc``. Other state dicts (timm's non-legacy ones) pass unchanged."""
    if "layer0.conv1.weight" not in state:
        return state
    deep = "layer0.conv3.weight" in state
    stem = _LEGACY_STEM if deep else {"layer0.conv1.": "conv1.", "layer0.bn1.": "bn1."}
    converted = {}
    for key, value in state.items():
        for old, new in (*stem.items(), ("last_linear.", "fc.")):
            if key.startswith(old):
                key = new + key.removeprefix(old)
        converted[key.replace(".se_module.", ".se.")] = value
    return converted


def _info(name: str, full_name: str, variant: str, top1_error: float, top5_error: float,
          timm_name: str, **more_reported: float) -> ModelInfo:
    # paper_*_error: Hu et al. Table 2 / Table 8 (ImageNet val, single 224 crop).
    reported = {"paper_top1_error": top1_error, "paper_top5_error": top5_error, **more_reported}
    return ModelInfo(name=name, full_name=full_name, paper=_HU, family="resnet",
                     variant=variant, reported=reported, timm=timm_name, deviations=_SE_CAFFE,
                     convert_state=from_timm_legacy_senet)


def _se_resnet(stage_blocks: list[int], block_args: dict, caffe_stride_in_1x1: bool,
               net_args: dict, /, num_classes: int = 1000, in_channels: int = 3,
               caffe: bool = True, layers: list[int] | None = None) -> ResNet:
    """An SE network of bottlenecks; ``caffe`` picks Hu et al.'s released layout (True) or
    timm's v1.5 re-implementation; ``layers`` overrides the blocks per stage (tiny variants)."""
    block_args = {**block_args, "attn": "se"}
    if caffe_stride_in_1x1:
        block_args["stride_in_1x1"] = caffe
    return ResNet(Bottleneck, layers or stage_blocks, num_classes=num_classes,
                  in_channels=in_channels, block_args=block_args, caffe_pool=caffe, **net_args)


@register_model(_info("se_resnet50", "SE-ResNet-50",
                      "ResNet-50 with SE (r=16) in every bottleneck", 23.29, 6.62,
                      "legacy_seresnet50"))
def se_resnet50(**options: Any) -> ResNet:
    """SE-ResNet-50. caffe=True loads timm's legacy_seresnet50, caffe=False its seresnet50."""
    return _se_resnet([3, 4, 6, 3], {}, True, {}, **options)


@register_model(_info("se_resnet101", "SE-ResNet-101",
                      "ResNet-101 with SE (r=16) in every bottleneck", 22.38, 6.07,
                      "legacy_seresnet101"))
def se_resnet101(**options: Any) -> ResNet:
    """SE-ResNet-101. caffe=True loads timm's legacy_seresnet101, caffe=False its seresnet101."""
    return _se_resnet([3, 4, 23, 3], {}, True, {}, **options)


@register_model(_info("se_resnext50_32x4d", "SE-ResNeXt-50 (32x4d)",
                      "ResNeXt-50 32x4d with SE (r=16) in every bottleneck", 21.10, 5.49,
                      "legacy_seresnext50_32x4d"))
def se_resnext50_32x4d(**options: Any) -> ResNet:
    """SE-ResNeXt-50 32x4d. caffe=True loads timm's legacy_seresnext50_32x4d, caffe=False its
    seresnext50_32x4d."""
    return _se_resnet([3, 4, 6, 3], {"groups": 32, "base_width": 4}, False, {}, **options)


@register_model(_info("senet154", "SENet-154",
                      "SE-ResNeXt-152 64x4d: 3x3 deep stem, halved first 1x1, 3x3 projection "
                      "shortcuts, dropout 0.2", 18.68, 4.47, "legacy_senet154",
                      ilsvrc2017_top5_error=2.251))
def senet154(**options: Any) -> ResNet:
    """SENet-154 (Hu et al.'s ILSVRC 2017 entry); loads timm's legacy_senet154."""
    return _se_resnet([3, 8, 36, 3], {"groups": 64, "base_width": 4, "reduce_first": 2}, False,
                      {"deep_stem": True, "down_kernel": 3, "dropout": 0.2}, **options)
