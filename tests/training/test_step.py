"""One training step: auxiliary losses, NaN/Inf skipping, clipping, EMA, mixup, AMP rules."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from cnnlab.errors import CnnlabError
from cnnlab.training.config import TrainConfig
from cnnlab.training.distributed import DistContext
from cnnlab.training.step import TrainStep, autocast_dtype


class TwoHeads(nn.Module):
    """A GoogLeNet-shaped toy: (main logits, auxiliary logits) in training."""

    def __init__(self) -> None:
        super().__init__()
        self.main, self.aux = nn.Linear(4, 3), nn.Linear(4, 3)

    def forward(self, x):
        x = x.flatten(1)
        return self.main(x), self.aux(x)


def make_step(model, **overrides):
    cfg = TrainConfig(**overrides)
    optimizer = torch.optim.SGD(model.parameters(), lr=cfg.lr)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: 1.0)
    ema = None
    if cfg.ema_decay:
        from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

        ema = AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(cfg.ema_decay))
    return TrainStep(model, optimizer, scheduler, cfg, DistContext(), 3, ema)


def test_auxiliary_loss_is_weighted_0_3():
    torch.manual_seed(0)
    model = TwoHeads()
    step = make_step(model, aux_loss_weight=0.3)
    x, y = torch.randn(5, 4, 1, 1), torch.tensor([0, 1, 2, 0, 1])
    main, aux = model(x)
    expected = F.cross_entropy(main, y) + 0.3 * F.cross_entropy(aux, y)
    assert step.loss((main, aux), y).item() == pytest.approx(expected.item(), rel=1e-6)
    result = step(x, y)
    assert result.loss == pytest.approx(expected.item(), rel=1e-6) and not result.skipped


def test_non_finite_loss_skips_the_update():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(4, 3))
    step = make_step(model)
    before = [p.detach().clone() for p in model.parameters()]
    x = torch.randn(2, 4, 1, 1)
    x[0, 0] = float("nan")
    result = step(x, torch.tensor([0, 1]))
    assert result.skipped
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters(), strict=True))
    assert not step(torch.randn(2, 4, 1, 1), torch.tensor([0, 1])).skipped


def test_gradient_clipping_bounds_the_update():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(4, 3))
    step = make_step(model, lr=1.0, grad_clip=0.01)
    before = torch.cat([p.detach().flatten().clone() for p in model.parameters()])
    step(torch.randn(8, 4, 1, 1) * 100, torch.zeros(8, dtype=torch.long))
    after = torch.cat([p.detach().flatten() for p in model.parameters()])
    assert (after - before).norm().item() == pytest.approx(0.01, rel=1e-4)  # lr x clipped norm


def test_ema_follows_the_exponential_average():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(4, 3))
    step = make_step(model, ema_decay=0.9)
    step(torch.randn(4, 4, 1, 1), torch.tensor([0, 1, 2, 0]))
    w1 = model[1].weight.detach().clone()  # the first update copies the weights
    step(torch.randn(4, 4, 1, 1), torch.tensor([0, 1, 2, 0]))
    w2 = model[1].weight.detach()
    assert not torch.equal(w1, w2)
    assert torch.allclose(step.ema.module[1].weight, 0.9 * w1 + 0.1 * w2, atol=1e-7)


def test_mixup_is_seeded_and_mixes_targets():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(16, 3))
    step = make_step(model, mixup_alpha=0.4, cutmix_alpha=1.0)
    x, y = torch.randn(6, 4, 2, 2), torch.tensor([0, 1, 2, 0, 1, 2])
    a = step.mixer
    with torch.random.fork_rng():
        torch.manual_seed(3)
        xa, ta = a(x, y)
    with torch.random.fork_rng():
        torch.manual_seed(3)
        xb, tb = a(x, y)
    assert torch.equal(xa, xb) and torch.equal(ta, tb)
    assert ta.shape == (6, 3) and torch.allclose(ta.sum(1), torch.ones(6))
    assert not step(x, y, mix_seed=3).skipped


def test_amp_rules():
    assert autocast_dtype("none", torch.device("cpu")) is None
    assert autocast_dtype("bf16", torch.device("cpu")) == torch.bfloat16
    with pytest.raises(CnnlabError, match="fp16 needs a CUDA"):
        autocast_dtype("fp16", torch.device("cpu"))
