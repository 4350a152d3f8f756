"""Published complexity numbers, each with its source, as the lecture and the papers print them.

These are data to compare against, never results: cnnlab's numbers are computed by the profiler
(``cnnlab.papers.compare`` puts the two side by side and explains every difference).
"""

from __future__ import annotations

from dataclasses import dataclass

LECTURE = "the lecture's slide 'classic CNN characteristics' (cnn-lecture.txt, table after it)"
VGG_SLIDE = ("the lecture's slide 'Memory usages and parameters of VGGNet' "
             "(after Stanford CS231n), VGG-16 configuration D at 224x224")
GOOGLENET_T1 = ("Szegedy et al. 2015, 'Going Deeper with Convolutions', Table 1 "
                "(also in the lecture)")
RESNET_T6 = ("He et al. 2016, 'Deep Residual Learning for Image Recognition', Table 6 "
             "(CIFAR-10)")


@dataclass(frozen=True)
class ShareRow:
    """One row of the lecture's conv-vs-FC table. Params in millions, ops in millions of
    operations (which the table does not define; see compare.py), shares in percent."""

    label: str
    model: str  # cnnlab registry name
    params_m: float
    params_conv: float
    params_fc: float
    ops_m: float
    ops_conv: float
    ops_fc: float


# Source: LECTURE ("Model / Params (M) / Conv (%) / FC (%) / Ops (M) / Conv (%) / FC (%)").
SHARES = [
    ShareRow("AlexNet", "alexnet", 61, 3.8, 96.2, 725, 91.9, 8.1),
    ShareRow("VGG-F", "vgg_f", 99, 2.2, 97.8, 762, 87.4, 12.6),
    ShareRow("VGG-M", "vgg_m", 103, 6.3, 93.7, 1678, 94.3, 5.7),
    ShareRow("VGG-S", "vgg_s", 103, 6.3, 93.7, 2640, 96.3, 3.7),
    ShareRow("VGG-16", "vgg16", 138, 10.6, 89.4, 15484, 99.2, 0.8),
    ShareRow("VGG-19", "vgg19", 144, 13.9, 86.1, 19647, 99.4, 0.6),
    ShareRow("NIN", "nin", 7.6, 100, 0, 1168, 100.0, 0.0),
    ShareRow("GoogLeNet", "googlenet", 6.9, 85.1, 14.9, 1566, 99.9, 0.1),
]


@dataclass(frozen=True)
class VggLayer:
    """One line of the VGG-16 slide: output (H, W, C), memory as printed, weights (no biases)."""

    label: str
    shape: tuple[int, int, int]
    memory: str
    params: int


# Source: VGG_SLIDE. "params: 0 (not counting biases)"; memory in values, not bytes.
VGG16_LAYERS = [
    VggLayer("INPUT", (224, 224, 3), "150K", 0),
    VggLayer("CONV3-64", (224, 224, 64), "3.2M", 1_728),
    VggLayer("CONV3-64", (224, 224, 64), "3.2M", 36_864),
    VggLayer("POOL2", (112, 112, 64), "800K", 0),
    VggLayer("CONV3-128", (112, 112, 128), "1.6M", 73_728),
    VggLayer("CONV3-128", (112, 112, 128), "1.6M", 147_456),
    VggLayer("POOL2", (56, 56, 128), "400K", 0),
    VggLayer("CONV3-256", (56, 56, 256), "800K", 294_912),
    VggLayer("CONV3-256", (56, 56, 256), "800K", 589_824),
    VggLayer("CONV3-256", (56, 56, 256), "800K", 589_824),
    VggLayer("POOL2", (28, 28, 256), "200K", 0),
    VggLayer("CONV3-512", (28, 28, 512), "400K", 1_179_648),
    VggLayer("CONV3-512", (28, 28, 512), "400K", 2_359_296),
    VggLayer("CONV3-512", (28, 28, 512), "400K", 2_359_296),
    VggLayer("POOL2", (14, 14, 512), "100K", 0),
    VggLayer("CONV3-512", (14, 14, 512), "100K", 2_359_296),
    VggLayer("CONV3-512", (14, 14, 512), "100K", 2_359_296),
    VggLayer("CONV3-512", (14, 14, 512), "100K", 2_359_296),
    VggLayer("POOL2", (7, 7, 512), "25K", 0),
    VggLayer("FC", (1, 1, 4096), "4096", 102_760_448),
    VggLayer("FC", (1, 1, 4096), "4096", 16_777_216),
    VggLayer("FC", (1, 1, 1000), "1000", 4_096_000),
]
VGG16_TOTAL_MEMORY = "24M x 4 bytes ~= 96MB / image (for a forward pass)"
VGG16_TOTAL_MEMORY_VALUES = 24_000_000
VGG16_TOTAL_PARAMS = "138M parameters"


@dataclass(frozen=True)
class GoogLeNetRow:
    """One row of GoogLeNet's Table 1. ``params_k`` is in K = 1024 weights (the paper's K),
    ``ops_m`` in millions of multiply-adds; None where the paper leaves the cell empty."""

    kind: str
    patch: str
    output: tuple[int, int, int]  # H, W, C
    depth: int
    n1x1: int | None = None
    n3x3_reduce: int | None = None
    n3x3: int | None = None
    n5x5_reduce: int | None = None
    n5x5: int | None = None
    pool_proj: int | None = None
    params_k: float | None = None
    ops_m: float | None = None


# Source: GOOGLENET_T1.
GOOGLENET_TABLE1 = [
    GoogLeNetRow("convolution", "7x7/2", (112, 112, 64), 1, params_k=2.7, ops_m=34),
    GoogLeNetRow("max pool", "3x3/2", (56, 56, 64), 0),
    GoogLeNetRow("convolution", "3x3/1", (56, 56, 192), 2, n3x3_reduce=64, n3x3=192,
                 params_k=112, ops_m=360),
    GoogLeNetRow("max pool", "3x3/2", (28, 28, 192), 0),
    GoogLeNetRow("inception (3a)", "", (28, 28, 256), 2, 64, 96, 128, 16, 32, 32, 159, 128),
    GoogLeNetRow("inception (3b)", "", (28, 28, 480), 2, 128, 128, 192, 32, 96, 64, 380, 304),
    GoogLeNetRow("max pool", "3x3/2", (14, 14, 480), 0),
    GoogLeNetRow("inception (4a)", "", (14, 14, 512), 2, 192, 96, 208, 16, 48, 64, 364, 73),
    GoogLeNetRow("inception (4b)", "", (14, 14, 512), 2, 160, 112, 224, 24, 64, 64, 437, 88),
    GoogLeNetRow("inception (4c)", "", (14, 14, 512), 2, 128, 128, 256, 24, 64, 64, 463, 100),
    GoogLeNetRow("inception (4d)", "", (14, 14, 528), 2, 112, 144, 288, 32, 64, 64, 580, 119),
    GoogLeNetRow("inception (4e)", "", (14, 14, 832), 2, 256, 160, 320, 32, 128, 128, 840, 170),
    GoogLeNetRow("max pool", "3x3/2", (7, 7, 832), 0),
    GoogLeNetRow("inception (5a)", "", (7, 7, 832), 2, 256, 160, 320, 32, 128, 128, 1072, 54),
    GoogLeNetRow("inception (5b)", "", (7, 7, 1024), 2, 384, 192, 384, 48, 128, 128, 1388, 71),
    GoogLeNetRow("avg pool", "7x7/1", (1, 1, 1024), 0),
    GoogLeNetRow("dropout (40%)", "", (1, 1, 1024), 0),
    GoogLeNetRow("linear", "", (1, 1, 1000), 1, params_k=1000, ops_m=1),
    GoogLeNetRow("softmax", "", (1, 1, 1000), 0),
]

# Source: RESNET_T6 ("# params" column): registry name -> millions of parameters.
CIFAR_RESNET_PARAMS = {"resnet20": 0.27, "resnet32": 0.46, "resnet44": 0.66, "resnet56": 0.85,
                       "resnet110": 1.7, "resnet1202": 19.4}
