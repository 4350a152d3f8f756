"""Backward rules for ReLU: guided backpropagation and the deconvnet, for every kind of ReLU.

Captum's ``GuidedBackprop`` and ``Deconvolution`` hook ``nn.ReLU`` modules only; GoogLeNet and
Inception-v3 call ``F.relu`` inside their conv blocks, where Captum silently falls back to the
plain gradient. Written here: a ``TorchFunctionMode`` swaps every ``F.relu`` / ``torch.relu`` /
``Tensor.relu`` call (modules included, since ``nn.ReLU`` calls ``F.relu``) for a ReLU whose
backward follows the rule. In-place ``relu_`` called directly is left alone.

- guided (Springenberg et al. 2015): pass the gradient where the forward ReLU was open AND the
  gradient is positive: ``relu(g) * [x > 0]``;
- deconvnet (Zeiler & Fergus 2014): ignore the forward gate, keep the positive gradient:
  ``relu(g)``.
On models with ``nn.ReLU`` modules both equal Captum's results (tests check it).
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch.overrides import TorchFunctionMode

RULES = ("guided", "deconvnet")
_RELUS = frozenset({F.relu, torch.relu, torch.Tensor.relu})


class _RuleReLU(torch.autograd.Function):
    @staticmethod
    def forward(ctx: Any, x: torch.Tensor, rule: str) -> torch.Tensor:
        out = x.clamp(min=0)
        ctx.rule = rule
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[torch.Tensor, None]:
        (out,) = ctx.saved_tensors
        if ctx.rule == "guided":
            grad = grad * (out > 0)
        return grad.clamp(min=0), None


class ReluRule(TorchFunctionMode):
    """Within ``with ReluRule("guided"):`` every ReLU call backpropagates by ``rule``."""

    def __init__(self, rule: str) -> None:
        super().__init__()
        if rule not in RULES:
            raise ValueError(f"rule must be one of {RULES}, got {rule!r}")
        self.rule = rule

    def __torch_function__(self, func: Any, types: Any, args: tuple = (),
                           kwargs: dict | None = None) -> Any:
        if func in _RELUS:
            return _RuleReLU.apply(args[0], self.rule)
        return func(*args, **(kwargs or {}))
