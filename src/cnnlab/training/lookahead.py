"""airbench's lookahead: the weights are pulled towards a slow moving average of themselves.

Every ``every`` optimizer steps the float tensors of the model (parameters and BN running
statistics) and their average are blended, ``average = decay * average + (1 - decay) * weights``,
and the weights are set to the average. The decay rises with training progress p (steps done /
total steps) as ``0.95 ** every * p ** 3``: early on the weights move freely, late in the
schedule they follow a long average; the last step copies the average in. Jordan 2024 (airbench,
https://arxiv.org/abs/2404.00498) measured it on CIFAR-10; the fast recipe's figures are in
benchmarks/results/fast.md. Hand-written: torch has no lookahead of this form (its
``swa_utils`` average without writing back into the weights).
"""

from __future__ import annotations

import torch
from torch import nn


class Lookahead:
    """Lookahead of ``model``'s float tensors over a run of ``total_steps`` optimizer steps."""

    def __init__(self, model: nn.Module, total_steps: int, every: int = 5,
                 base_decay: float = 0.95) -> None:
        if every < 1 or total_steps < 1:
            raise ValueError("lookahead needs every >= 1 and total_steps >= 1")
        self.tensors = [t for t in [*model.parameters(), *model.buffers()]
                        if t.is_floating_point()]
        self.average = [t.detach().clone() for t in self.tensors]
        self.total, self.every, self.base_decay = total_steps, every, base_decay
        self.step_count = 0

    def decay(self, step: int) -> float:
        """The averaging weight at optimizer step ``step`` (1-based): 1 at the last step."""
        if step >= self.total:
            return 1.0
        return self.base_decay ** self.every * (step / self.total) ** 3

    @torch.no_grad()
    def step(self) -> None:
        """Call after every optimizer step; acts every ``every`` steps and at the last."""
        self.step_count += 1
        if self.step_count % self.every and self.step_count < self.total:
            return
        torch._foreach_lerp_(self.average, self.tensors, 1 - self.decay(self.step_count))
        torch._foreach_copy_(self.tensors, self.average)

    def state_dict(self) -> dict[str, object]:
        return {"step_count": self.step_count, "average": [t.clone() for t in self.average]}

    def load_state_dict(self, state: dict[str, object]) -> None:
        self.step_count = int(state["step_count"])
        with torch.no_grad():
            torch._foreach_copy_(self.average, list(state["average"]))


def make_lookahead(model: nn.Module, every: int, total_steps: int) -> Lookahead | None:
    """A Lookahead for ``lookahead_every`` = ``every`` (0: none)."""
    return Lookahead(model, total_steps, every) if every else None
