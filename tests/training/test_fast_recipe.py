"""The fast recipe: batched augmentation, a short run that learns, a usable run folder, and
the standard trainer's in-memory option it is made of."""

from __future__ import annotations

import functools
import json

import numpy as np
import pytest
import torch
from PIL import Image

from cnnlab.cli import main
from cnnlab.data import load_dataset
from cnnlab.data.memory import InMemoryDataset
from cnnlab.errors import CnnlabError
from cnnlab.models import get_model
from cnnlab.runs import load_checkpoint
from cnnlab.training import TrainConfig, fast, train
from cnnlab.training.batches import DeviceBatches, augment
from cnnlab.training.recipes import get_recipe, list_recipes, recipe_config


def test_augment_moves_each_image_within_range():
    x = torch.arange(4 * 1 * 6 * 6, dtype=torch.float32).view(4, 1, 6, 6) + 1.0
    fill = torch.full((1, 1, 1, 1), -5.0)
    out = augment(x, torch.Generator().manual_seed(0), flip=True, translate=1, fill=fill)
    assert out.shape == x.shape
    for image, moved in zip(x, out, strict=True):
        candidates = []
        for source in (image, image.flip(-1)):
            padded = torch.nn.functional.pad(source, (1, 1, 1, 1), value=-5.0)
            candidates += [padded[:, dy:dy + 6, dx:dx + 6] for dy in range(3) for dx in range(3)]
        assert any(torch.equal(moved, c) for c in candidates)


def test_augment_flips_about_half():
    x = torch.arange(8, dtype=torch.float32).view(1, 1, 1, 8).repeat(1000, 1, 1, 1)
    out = augment(x, torch.Generator().manual_seed(0), flip=True, translate=0,
                       fill=torch.zeros(1, 1, 1, 1))
    flipped = (out[:, 0, 0, 0] == 7).float().mean().item()
    assert 0.4 < flipped < 0.6
    mirrored = out[out[:, 0, 0, 0] == 7]
    assert torch.equal(mirrored, x[:1].flip(-1).expand_as(mirrored))


def test_recipe_is_registered():
    assert "fast" in list_recipes()
    cfg = recipe_config("fast")
    assert cfg.model == "fastnet" and cfg.recipe == "fast"
    assert get_recipe("fast").train_fn is fast.train_fast


def test_views_the_loop_cannot_score_are_refused():
    cfg = recipe_config("fast")
    cfg.eval_mode = "10crop"
    with pytest.raises(CnnlabError, match="not eval_mode='10crop'"):
        fast.train_fast(cfg)


def test_plateau_needs_every_epochs_score(fake_fashion, tmp_path):
    status = main(["train", "--data-dir", str(fake_fashion), "--epochs", "1", "--out",
                   str(tmp_path / "run"), "--set", "eval_every=2", "--set", "schedule=plateau",
                   "--quiet"])
    assert status == 1 and not (tmp_path / "run" / "checkpoint.safetensors").exists()


def test_standard_batches_skip_evaluations_too(fake_fashion, tmp_path):
    result = train(TrainConfig(data_dir=str(fake_fashion), epochs=2, batch_size=32,
                               train_subset=64, test_subset=32, eval_every=2, quiet=True,
                               device="cpu", out=str(tmp_path / "run")))
    assert ["test_acc" in row for row in result.rows] == [False, True]


@pytest.mark.parametrize(("overrides", "message"), [
    ({"augment": ["cifar"]}, "not augment=\\['cifar'\\]"),
    ({"in_memory": False, "translate": 1}, "translate needs in_memory=true"),
    ({"translate": -1}, "translate must be >= 0"),
])
def test_unsupported_setting_is_refused(fake_fashion, tmp_path, overrides, message):
    cfg = recipe_config("fast").replace({"data_dir": str(fake_fashion), "device": "cpu",
                                         "out": str(tmp_path / "run"), **overrides})
    with pytest.raises(CnnlabError, match=message):
        fast.train_fast(cfg)
    assert not (tmp_path / "run" / "checkpoint.safetensors").exists()


def test_the_recipe_is_the_standard_trainer_with_its_config(fake_fashion, tmp_path):
    """train_fast only resolves the config: the trainer given that config runs the same."""
    settings = {"data_dir": str(fake_fashion), "epochs": 2, "batch_size": 32, "device": "cpu",
                "quiet": True, "train_subset": 128, "test_subset": 64, "translate": 1}
    by_recipe = fast.train_fast(recipe_config("fast").replace(
        {**settings, "out": str(tmp_path / "a")}))
    amp = json.loads((tmp_path / "a" / "config.json").read_text())["amp"]  # bf16 on AMX CPUs
    values = {**fast.FAST_RECIPE, **settings, "amp": amp, "out": str(tmp_path / "b")}
    by_trainer = train(TrainConfig(recipe="fast", **values))
    drop = ("seconds", "cpu_seconds", "images_per_s")
    assert [{k: v for k, v in row.items() if k not in drop} for row in by_recipe.rows] == \
        [{k: v for k, v in row.items() if k not in drop} for row in by_trainer.rows]


def test_ema_is_honoured_with_in_memory_batches(fake_fashion, tmp_path):
    cfg = recipe_config("fast").replace({
        "data_dir": str(fake_fashion), "epochs": 1, "batch_size": 32, "device": "cpu",
        "quiet": True, "train_subset": 64, "test_subset": 32, "ema_decay": 0.9,
        "out": str(tmp_path / "run")})
    result = fast.train_fast(cfg)
    assert "ema_test_acc" in result.rows[-1] and (tmp_path / "run" / "ema.safetensors").is_file()


@pytest.fixture(scope="module")
def fast_run(fake_fashion, tmp_path_factory):
    """A 4-epoch run made "long" (translation and flipshift views, as 30+ epochs get)."""
    out = tmp_path_factory.mktemp("fast") / "run"
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(fast, "LONG_RUN_EPOCHS", 4)
        status = main(["train", "--recipe", "fast", "--data-dir", str(fake_fashion), "--epochs",
                       "4", "--batch-size", "32", "--out", str(out), "--device", "cpu",
                       "--quiet", "--set", "eval_every=3"])
    assert status == 0
    return out


def test_short_schedules_neither_translate_nor_score_shifted_views(fake_fashion, tmp_path):
    assert fast.LONG_RUN_EPOCHS > 1
    assert main(["train", "--recipe", "fast", "--data-dir", str(fake_fashion), "--epochs", "1",
                 "--out", str(tmp_path / "run"), "--quiet", "--set", "train_subset=64"]) == 0
    config = json.loads((tmp_path / "run" / "config.json").read_text())
    assert config["translate"] == 0 and config["eval_mode"] == "flip"
    assert json.loads((tmp_path / "run" / "checkpoint.json").read_text())["eval"]["mode"] == "flip"


def test_short_run_learns_and_writes_the_run_folder(fast_run):
    for name in ("config.json", "metrics.csv", "curves.png", "checkpoint.safetensors",
                 "checkpoint.json"):
        assert (fast_run / name).is_file(), name
    config = json.loads((fast_run / "config.json").read_text())
    assert config["recipe"] == "fast" and config["model"] == "fastnet"
    assert config["translate"] == fast.TRANSLATE and config["eval_mode"] == "flipshift"
    lines = (fast_run / "metrics.csv").read_text().splitlines()
    assert lines[0].startswith("epoch,lr,train_loss") and len(lines) == 5
    # the lr logged is the one the epoch's last step used: positive, lowest at the end
    rates = [float(line.split(",")[1]) for line in lines[1:]]
    assert min(rates) > 0 and rates[-1] == min(rates)
    # eval_every=3: scored after epoch 3 and after the last, not after epochs 1 and 2
    column = lines[0].split(",").index("test_acc")
    assert [bool(line.split(",")[column]) for line in lines[1:]] == [False, False, True, True]
    meta = json.loads((fast_run / "checkpoint.json").read_text())
    assert meta["metrics"]["test_acc"] > 0.6  # 10 classes: chance is 0.1


def test_evaluate_and_predict_use_the_checkpoint(fast_run, fake_fashion, capsys, tmp_path):
    model, meta = load_checkpoint(fast_run)
    assert model.registry_name == "fastnet"
    assert main(["evaluate", str(fast_run), "--data-dir", str(fake_fashion), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    # evaluate scores with the run's own views (flipshift): the run's own figure, up to one
    # image whose top class may differ with the evaluation batch size's float rounding
    assert report["crops"] == "flipshift" and meta["eval"]["mode"] == "flipshift"
    assert report["top1_acc"] > 0.6
    assert abs(report["top1_acc"] - meta["metrics"]["test_acc"]) <= 1 / report["samples"]
    image = np.zeros((28, 28), dtype=np.uint8)
    image[4:7, 4:24] = 230  # class 1 of the fake data set: a bar at row 4
    Image.fromarray(image).save(tmp_path / "bar.png")
    assert main(["predict", str(fast_run), str(tmp_path / "bar.png"), "--json",
                 "--invert", "no"]) == 0
    top = json.loads(capsys.readouterr().out)[0]["top"]
    assert len(top) == 5 and abs(sum(t["probability"] for t in top) - 1) < 0.2


def _mirrored(batches, epoch: int) -> torch.Tensor:
    """Which images the epoch shows mirrored (the test images are left-right asymmetric)."""
    x = batches.images
    drawn = [batch for _, batch in batches.epoch(epoch)]
    seen = torch.cat([b.images for b in drawn])
    order = [int(i) for i in torch.cat([b.labels for b in drawn])]
    flips = torch.zeros(len(x), dtype=torch.bool)
    for image, index in zip(seen, order, strict=True):
        flips[index] = torch.equal(image, x[index].flip(-1))
    return flips


def test_alternate_flip_shows_each_image_both_ways_in_two_epochs():
    images = torch.arange(64 * 4, dtype=torch.uint8).view(64, 1, 2, 2) * 3
    data = InMemoryDataset(images, torch.arange(64), classes=[str(i) for i in range(64)],
                           mean=(0.5,), std=(0.25,), name="toy")
    make = functools.partial(DeviceBatches, data, 16, seed=3, flip=True, translate=0,
                             device=torch.device("cpu"), channels_last=False)
    alternate = make(alternate_flip=True)
    even, odd, again = (_mirrored(alternate, e) for e in (0, 1, 2))
    assert 16 < int(even.sum()) < 48
    assert torch.equal(odd, ~even) and torch.equal(again, even)
    random = make()
    assert not torch.equal(_mirrored(random, 1), ~_mirrored(random, 0))


def test_whitened_stem_stays_frozen_through_training(fake_fashion, tmp_path):
    """The saved stem is the whitening of the run's own first images: training, weight decay
    and lookahead left it untouched."""
    cfg = recipe_config("fast").replace({
        "data_dir": str(fake_fashion), "epochs": 2, "batch_size": 32, "device": "cpu",
        "quiet": True, "train_subset": 96, "test_subset": 32, "whiten_stem": True,
        "lookahead_every": 2, "out": str(tmp_path / "run")})
    fast.train_fast(cfg)
    trained, _ = load_checkpoint(tmp_path / "run")
    assert json.loads((tmp_path / "run" / "config.json").read_text())["whiten_stem"] is True
    data = load_dataset("fashion-mnist", "train", str(fake_fashion)).subset(96)
    fresh = get_model("fastnet", **cfg.model_options)
    fresh.whiten_stem(data.normalize(data.images))
    assert torch.allclose(trained.stem[0].weight, fresh.stem[0].weight, atol=1e-6)
    assert not torch.allclose(trained.groups[0].conv1.weight, fresh.groups[0].conv1.weight)


def test_whitening_a_model_without_a_stem_is_refused(fake_fashion, tmp_path, capsys):
    status = main(["train", "--data-dir", str(fake_fashion), "--epochs", "1", "--quiet",
                   "--out", str(tmp_path / "run"), "--set", "whiten_stem=true"])
    err = capsys.readouterr().err
    assert status == 1 and "whiten_stem needs fastnet" in err and "Traceback" not in err


@pytest.mark.parametrize("recipe", ["fast", "fast-30min"])
def test_each_fast_recipe_trains_with_its_own_model_options(recipe, fake_fashion, tmp_path):
    """Each recipe's combination (stem, widths, whitening) builds and trains."""
    assert main(["train", "--recipe", recipe, "--data-dir", str(fake_fashion), "--epochs", "1",
                 "--out", str(tmp_path / "run"), "--quiet", "--device", "cpu", "--set",
                 "train_subset=64", "--set", "test_subset=32", "--batch-size", "32"]) == 0
    config = json.loads((tmp_path / "run" / "config.json").read_text())
    assert config["whiten_stem"] == recipe_config(recipe).whiten_stem


@pytest.mark.parametrize("amx", [True, False])
def test_bf16_autocast_and_its_schedule_on_the_cpu_follow_amx(amx, monkeypatch):
    """The recipe keeps bf16 on the CPU only where the CPU has AMX tiles (bf16_is_fast), and
    trains longer there."""
    monkeypatch.setattr(torch.cpu, "_is_amx_tile_supported", lambda: amx, raising=False)
    cfg = fast.resolve(recipe_config("fast").validate())
    assert cfg.amp == ("bf16" if amx else "none")
    # the schedule follows the precision: bf16 steps are cheap enough for BF16_EPOCHS
    assert cfg.epochs == (fast.BF16_EPOCHS if amx else fast.FAST_RECIPE["epochs"])
    assert fast.BF16_EPOCHS > fast.FAST_RECIPE["epochs"]
    long = fast.resolve(recipe_config("fast-30min").validate())
    expected = {**fast.FAST_30MIN, **(fast.FAST_30MIN_BF16 if amx else {})}
    assert (long.amp, long.epochs, long.eval_every) == (
        expected["amp"], expected["epochs"], expected["eval_every"])
    chosen = recipe_config("fast")
    chosen.amp = "none"  # an explicit fp32 stays fp32 on any CPU
    assert fast.resolve(chosen.validate()).amp == "none"
