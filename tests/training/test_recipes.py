"""Named recipes: the papers' values, config precedence, and a short CLI run of every recipe."""

from __future__ import annotations

import json

import pytest

from cnnlab.cli import main
from cnnlab.cli.train import build_config
from cnnlab.data.synthetic import write_cifar_like, write_image_folder
from cnnlab.errors import CnnlabError
from cnnlab.training.config import load_run_config
from cnnlab.training.recipes import get_recipe, list_recipes, recipe_config, register_recipe

PAPER_RECIPES = ["fashion-mnist", "alexnet-imagenet", "vgg-imagenet", "googlenet-imagenet",
                 "resnet-imagenet", "resnet-cifar"]


def test_every_recipe_is_registered_and_valid():
    assert set(PAPER_RECIPES) <= set(list_recipes())
    for name in PAPER_RECIPES:
        cfg = recipe_config(name).validate()
        assert cfg.recipe == name


def test_recipes_carry_the_papers_hyperparameters():
    alexnet = recipe_config("alexnet-imagenet")  # Krizhevsky et al. 2012, section 5
    assert (alexnet.batch_size, alexnet.lr, alexnet.momentum, alexnet.weight_decay) == \
        (128, 0.01, 0.9, 5e-4)
    assert alexnet.schedule == "plateau" and alexnet.gamma == 0.1
    assert "alexnet" in alexnet.augment
    cifar = recipe_config("resnet-cifar")  # He et al. 2016, section 4.2
    assert (cifar.batch_size, cifar.lr, cifar.weight_decay, cifar.max_steps) == \
        (128, 0.1, 1e-4, 64_000)
    assert cifar.milestones == [32_000, 48_000] and cifar.schedule_unit == "step"
    assert recipe_config("googlenet-imagenet").aux_loss_weight == 0.3  # Szegedy 2015, sec. 5
    assert recipe_config("vgg-imagenet").augment == ["vgg"]
    assert recipe_config("fashion-mnist") == recipe_config("fashion-mnist")


def test_registry_refuses_duplicates_and_names_unknowns():
    with pytest.raises(ValueError, match="twice"):
        register_recipe("resnet-cifar", lambda: recipe_config("resnet-cifar"))
    with pytest.raises(CnnlabError, match="unknown recipe 'alexnet'.*alexnet-imagenet"):
        get_recipe("alexnet")


def test_precedence_recipe_then_yaml_then_set_then_flags(tmp_path):
    config = tmp_path / "over.yaml"
    config.write_text("lr: 0.5\nbatch-size: 64\nepochs: 3\naugment: [cifar, randaugment]\n")
    cfg = build_config("resnet-cifar", str(config), ["epochs=4", "grad_clip=1.0"],
                       {"epochs": 7, "seed": None})
    assert cfg.lr == 0.5 and cfg.batch_size == 64 and cfg.augment == ["cifar", "randaugment"]
    assert cfg.epochs == 7 and cfg.grad_clip == 1.0 and cfg.weight_decay == 1e-4
    config.write_text("lrr: 0.5\n")
    with pytest.raises(CnnlabError, match="unknown config key 'lrr'"):
        build_config("fashion-mnist", str(config), [], {})
    config.write_text("lr: [0.5\n")
    with pytest.raises(CnnlabError, match="invalid YAML"):
        build_config("fashion-mnist", str(config), [], {})
    with pytest.raises(CnnlabError, match="unknown schedule"):
        build_config("fashion-mnist", None, ["schedule=exp"], {}).validate()


def test_a_saved_config_reads_back_and_a_corrupt_one_is_named(tmp_path):
    cfg = recipe_config("resnet-cifar")
    (tmp_path / "config.json").write_text(json.dumps({**cfg.to_dict(), "world": 1}))
    assert load_run_config(tmp_path) == cfg
    (tmp_path / "config.json").write_text("{not json")
    with pytest.raises(CnnlabError, match="corrupt config"):
        load_run_config(tmp_path)
    with pytest.raises(CnnlabError, match="not a run folder"):
        load_run_config(tmp_path / "absent")


@pytest.fixture(scope="module")
def image_tree(tmp_path_factory):
    root = tmp_path_factory.mktemp("tree")
    return write_image_folder(root, ["a", "b"], {"train": 2, "val": 1}, size=(30, 36))


def _run(args, tmp_path, capsys):
    out = tmp_path / "run"
    status = main(["train", *args, "--out", str(out), "--quiet"])
    assert status == 0, capsys.readouterr().err
    rows = (out / "metrics.csv").read_text().splitlines()
    meta = json.loads((out / "checkpoint.json").read_text())
    return out, rows, meta


# ImageNet recipes on a tiny ImageFolder tree: 4 images at a small crop, one step each.
# AlexNet (61M parameters) and VGG-16 (138M) are swapped for smallcnn: writing their weights and
# optimizer state (0.7 and 1.6 GB) would cost half a minute; the zoo's tests cover the models,
# these the recipes' data pipelines, schedules and losses. GoogLeNet keeps its auxiliary heads.
@pytest.mark.parametrize(("recipe", "size", "model"), [
    ("alexnet-imagenet", 64, "smallcnn"), ("vgg-imagenet", 32, "smallcnn"),
    ("googlenet-imagenet", 64, None), ("resnet-imagenet", 32, None)])
def test_imagenet_recipes_run_from_the_cli(recipe, size, model, image_tree, tmp_path, capsys):
    swap = ["--model", model] if model else []
    _, rows, meta = _run(["--recipe", recipe, *swap, "--dataset", "imagefolder", "--data-dir",
                            str(image_tree), "--epochs", "1", "--batch-size", "4",
                            "--set", f"image_size={size}", "--set", f"eval_resize={size}",
                            "--set", "eval_batch_size=2"], tmp_path, capsys)
    assert len(rows) == 2 and meta["recipe"] == recipe
    assert meta["model"] == (model or recipe_config(recipe).model)
    assert meta["input_size"] == [3, size, size] and meta["classes"] == ["a", "b"]


def test_resnet_cifar_recipe_runs_in_iterations(tmp_path, capsys):
    write_cifar_like(tmp_path / "cifar", train=40, test=8)
    out, rows, meta = _run(["--recipe", "resnet-cifar", "--data-dir", str(tmp_path / "cifar"),
                            "--batch-size", "8", "--set", "max_steps=7",
                            "--set", "milestones=[3, 5]"], tmp_path, capsys)
    assert len(rows) == 1 + 2  # 7 steps at 5 steps per epoch: two epochs, the last one short
    config = json.loads((out / "config.json").read_text())
    assert config["max_steps"] == 7 and meta["dataset"] == "cifar10"
    assert float(rows[-1].split(",")[1]) == pytest.approx(0.1 * 0.01)  # past both milestones


def test_bad_image_stops_the_run_or_is_skipped_and_reported(tmp_path, capsys):
    root = write_image_folder(tmp_path / "tree", ["a", "b"], {"train": 3, "val": 1},
                              size=(20, 20))
    (root / "train" / "b" / "zz-broken.png").write_bytes(b"\x89PNG\r\n broken")
    args = ["train", "--model", "smallcnn", "--dataset", "imagefolder", "--data-dir", str(root),
            "--epochs", "1", "--batch-size", "7", "--quiet", "--set", "image_size=16"]
    assert main([*args, "--out", str(tmp_path / "stop")]) == 1
    assert "zz-broken.png" in capsys.readouterr().err
    assert main([*args, "--out", str(tmp_path / "skip"), "--set", "skip_bad_files=true",
                 "--set", "tensorboard=true"]) == 0
    rows = (tmp_path / "skip" / "metrics.csv").read_text().splitlines()
    assert rows[0].endswith("skipped_files") and rows[1].endswith(",1")
    assert (tmp_path / "skip" / "skipped_files.txt").read_text().strip().endswith(
        "zz-broken.png")
    assert list((tmp_path / "skip" / "tensorboard").glob("events.out.tfevents.*"))
