"""`--scale paper`: the papers' settings as resolved configs, and a one-line error without
CIFAR-10 (it is not installed here: every test below runs without it)."""

from __future__ import annotations

import pytest
from torch import nn

from cnnlab.cli import main
from cnnlab.data import cifar
from cnnlab.errors import CnnlabError
from cnnlab.experiments import get_experiment, list_experiments, run_experiment
from cnnlab.experiments.runner import arm_config, base_config
from cnnlab.models import get_model
from cnnlab.training.schedule import lr_factor

CIFAR_URL = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"  # torchvision's source


@pytest.fixture
def offline(no_download, monkeypatch):
    monkeypatch.setattr(cifar, "_download", lambda name: None)
    return no_download


def _configs(name: str, folder):
    exp = get_experiment(name)
    base = base_config(exp, "paper", folder)
    return {arm.key: arm_config(base, arm, 0, folder) for arm in exp.arms(exp.scales["paper"])}


@pytest.mark.parametrize("name", ["degradation", "activation"])
def test_without_cifar_one_line_says_where_to_get_it(name, offline, capfd):
    out = offline / "report"
    assert main(["experiment", "run", name, "--scale", "paper", "--out", str(out)]) == 1
    captured = capfd.readouterr()
    err = captured.err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: cifar10 not found: download "
                                               f"{CIFAR_URL}, unpack it into DIR")
    assert "--data-dir DIR" in err[0] and "Traceback" not in captured.out + captured.err
    assert not out.exists()  # nothing written before the data is known to be there
    with pytest.raises(CnnlabError, match="--data-dir .*: no cifar-10-batches-py/ folder"):
        run_experiment(name, "paper", out=out, data_dir=str(offline), log=lambda line: None)


def test_degradation_paper_is_he_et_al_cifar_schedule(tmp_path):
    """He et al. (2015) section 4.2: batch 128, lr 0.1 divided by 10 at 32k and 48k
    iterations, stop at 64k, weight decay 1e-4, momentum 0.9, 4-pixel shifts and flips."""
    configs = _configs("degradation", tmp_path)
    assert sorted(configs) == ["plain20", "plain56", "resnet20", "resnet56"]
    for key, cfg in configs.items():
        cfg.validate()
        assert (cfg.dataset, cfg.model, cfg.model_options) == ("cifar10", key, {})
        assert (cfg.max_steps, cfg.batch_size, cfg.lr) == (64_000, 128, 0.1)
        assert (cfg.momentum, cfg.nesterov, cfg.weight_decay) == (0.9, False, 1e-4)
        assert (cfg.optimizer, cfg.schedule, cfg.schedule_unit) == ("sgd", "multistep", "step")
        assert (cfg.milestones, cfg.gamma, cfg.warmup_steps) == ([32_000, 48_000], 0.1, 0)
        assert (cfg.hflip, cfg.translate, cfg.train_subset, cfg.test_subset) == \
            (True, 4, None, None)
        factor = lr_factor(cfg, 64_000, 390)  # 0-based step -> multiplier of lr
        assert [cfg.lr * factor(s) for s in (0, 31_999, 32_000, 47_999, 48_000, 63_999)] == \
            pytest.approx([0.1, 0.1, 0.01, 0.01, 0.001, 0.001])
    # the paper's widths (16-32-64): Table 6 gives ResNet-20 0.27M and ResNet-56 0.85M weights
    for key, millions in (("resnet20", 0.27), ("resnet56", 0.85)):
        cfg = configs[key]
        net = get_model(cfg.model, num_classes=10, in_channels=3, **cfg.model_options)
        assert round(sum(p.numel() for p in net.parameters()) / 1e6, 2) == millions


def test_activation_paper_is_krizhevsky_fig1(tmp_path):
    """Fig. 1: a four-layer CNN on CIFAR-10, ReLU vs tanh, 25% training error, each net at
    its own learning rate, no regularization of any kind."""
    scale = get_experiment("activation").scales["paper"]
    assert scale.arms["target"] == 0.25 and len(scale.arms["lrs"]) >= 3
    configs = _configs("activation", tmp_path)
    assert len(configs) == 2 * len(scale.arms["lrs"])
    for key, cfg in configs.items():
        cfg.validate()
        assert cfg.dataset == "cifar10" and cfg.test_subset is None and cfg.train_subset is None
        assert cfg.lr == float(key.split("-lr")[1]) and cfg.schedule == "constant"
        assert (cfg.weight_decay, cfg.hflip, cfg.translate, cfg.label_smoothing) == \
            (0.0, False, 0, 0.0)
        assert cfg.log_steps and not cfg.augment and cfg.mixup_alpha == cfg.cutmix_alpha == 0
        net = get_model(cfg.model, num_classes=10, in_channels=3, **cfg.model_options)
        layers = [m for m in net.modules() if isinstance(m, nn.Conv2d | nn.Linear)]
        assert len(layers) == 4  # two conv, two fully connected
        kinds = {type(m) for m in net.modules()}
        assert nn.Dropout not in kinds or all(m.p == 0 for m in net.modules()
                                              if isinstance(m, nn.Dropout))
        assert not kinds & {nn.BatchNorm2d, nn.BatchNorm1d}
        assert (nn.Tanh in kinds) == key.startswith("tanh-")


@pytest.mark.parametrize("name", list_experiments())
def test_every_paper_scale_resolves_to_a_valid_config(name, tmp_path):
    for cfg in _configs(name, tmp_path).values():
        assert cfg.validate() is cfg and cfg.dataset in ("cifar10", "fashion-mnist")
