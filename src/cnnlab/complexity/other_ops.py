"""Operations torch.utils.flop_counter does not count: batch norm, ReLU, pooling, LRN, additions.

torch's counter covers the multiply-accumulate operators (convolution, matrix multiply); every
other operator adds zero FLOPs there. The papers' tables count only multiply-adds too, so cnnlab
keeps these apart, as "other operations", with a simple documented rule written by hand (no
library counts them the same way twice):

* an elementwise operator (ReLU, add, multiply, divide, power, sigmoid, ...): one per output
  element;
* batch norm at inference: two per output element (one scale, one shift, statistics folded);
* a pooling window: one per input element it reads (``kh x kw`` per output element), adaptive
  and global pooling one per input element;
* copies, views and concatenations: none.

LRN has no operator of its own: torch computes it as square, 3-D average pooling over channels,
scale, power and divide, and each of those is counted by the rules above.
"""

from __future__ import annotations

import math

import torch

aten = torch.ops.aten

_ELEMENTWISE = {
    aten.add, aten.add_, aten.sub, aten.sub_, aten.mul, aten.mul_, aten.div, aten.div_,
    aten.relu, aten.relu_, aten.threshold, aten.threshold_, aten.hardtanh, aten.hardtanh_,
    aten.clamp, aten.clamp_, aten.clamp_min, aten.clamp_min_, aten.sigmoid, aten.sigmoid_,
    aten.tanh, aten.tanh_, aten.pow, aten.sqrt, aten.rsqrt, aten.exp, aten.gelu, aten.silu,
    aten.silu_, aten.hardswish, aten.hardswish_, aten.hardsigmoid, aten.hardsigmoid_,
    aten.leaky_relu, aten.leaky_relu_, aten.elu, aten.elu_, aten.neg, aten.addcmul,
}
_BATCH_NORM = {aten.native_batch_norm, aten._native_batch_norm_legit,
               aten._native_batch_norm_legit_no_training}
_WINDOW_POOLS = {aten.max_pool2d_with_indices, aten.max_pool2d, aten.avg_pool2d,
                 aten.avg_pool3d, aten.max_pool3d_with_indices}
_READ_ALL = {aten._adaptive_avg_pool2d, aten.adaptive_max_pool2d, aten.mean, aten.sum, aten.amax}


def other_ops(func, args: tuple, out: object) -> int:
    """Operations of one aten call that are not multiply-accumulates (see the module doc)."""
    packet = func.overloadpacket
    result = out[0] if isinstance(out, (tuple, list)) else out
    if not isinstance(result, torch.Tensor):
        return 0
    if packet in _ELEMENTWISE:
        return result.numel()
    if packet in _BATCH_NORM:
        return 2 * result.numel()
    if packet in _WINDOW_POOLS:
        kernel = args[1] if isinstance(args[1], (list, tuple)) else [args[1]]
        window = math.prod(kernel) if len(kernel) > 1 else kernel[0] ** (result.dim() - 2)
        return result.numel() * window
    if packet in _READ_ALL and isinstance(args[0], torch.Tensor):
        return args[0].numel()
    return 0
