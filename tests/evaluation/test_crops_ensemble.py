"""10-crop and multi-scale views, evaluation modes, and ensembles of runs."""

from __future__ import annotations

import json

import pytest
import torch
from torchvision.transforms import v2

from cnnlab.cli import main
from cnnlab.data import load_dataset
from cnnlab.data.synthetic import write_image_folder
from cnnlab.evaluation.crops import (
    CROP_MODES,
    file_transform,
    padded_ten_crops,
    scaled_views,
    shifted_flip_views,
    ten_crops,
)
from cnnlab.evaluation.ensemble import average_probs, ensemble_runs, tune_weights
from cnnlab.evaluation.predict import ViewSpec, _log_mean_softmax, predict
from cnnlab.training import TrainConfig, train
from cnnlab.training.config import EVAL_MODES


def test_ten_crops_match_torchvision():
    x = torch.randint(0, 256, (2, 3, 11, 13), dtype=torch.uint8)
    ours = ten_crops(x, 7)
    for n in range(2):
        theirs = v2.TenCrop(7)(x[n])  # corners tl, tr, bl, br, centre, then their flips
        assert all(torch.equal(ours[i, n], theirs[i]) for i in range(10))


def test_padded_ten_crops_keep_the_size_and_the_centre():
    x = torch.randint(0, 256, (3, 1, 32, 32), dtype=torch.uint8)
    views = padded_ten_crops(x)
    assert views.shape == (10, 3, 1, 32, 32)
    assert torch.equal(views[4], x) and torch.equal(views[9], x.flip(-1))


def test_multiscale_views_and_log_mean_softmax():
    x = torch.rand(2, 3, 20, 30)
    views = scaled_views(x, [10, 40])
    assert [tuple(v.shape[-2:]) for v in views] == [(10, 15), (10, 15), (40, 60), (40, 60)]
    logits = [torch.randn(4, 5) for _ in range(3)]
    expected = torch.stack([t.softmax(1) for t in logits]).mean(0).log()
    assert torch.allclose(_log_mean_softmax(logits), expected, atol=1e-6)


def test_training_offers_every_view_mode():
    assert EVAL_MODES == CROP_MODES


def test_flip_view_averages_the_image_and_its_mirror(fake_fashion):
    data = load_dataset("fashion-mnist", "test", fake_fashion).subset(20)
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(28 * 28, 10))
    preds = predict(model, data, device=torch.device("cpu"), spec=ViewSpec("flip"))
    x = data.normalize(data.images)
    with torch.no_grad():
        probs = 0.5 * (model(x).softmax(1) + model(x.flip(-1)).softmax(1))
    assert torch.allclose(preds.log_probs.exp(), probs, atol=1e-5)
    centre = predict(model, data, device=torch.device("cpu"), spec=ViewSpec("center"))
    assert not torch.allclose(centre.log_probs, preds.log_probs, atol=1e-3)


def test_shifted_flip_views_move_by_one_pixel_with_black_fill():
    x = torch.arange(1, 17, dtype=torch.uint8).view(1, 1, 4, 4)
    views = shifted_flip_views(x)
    assert len(views) == 6 and all(v.shape == x.shape for v in views)
    assert torch.equal(views[0], x) and torch.equal(views[1], x.flip(-1))
    up_left, down_right = views[2], views[4]
    assert torch.equal(up_left[..., :3, :3], x[..., 1:, 1:]) and up_left[..., 3, :].sum() == 0
    assert torch.equal(down_right[..., 1:, 1:], x[..., :3, :3]) and down_right[..., 0, :].sum() == 0
    assert torch.equal(views[3], up_left.flip(-1)) and torch.equal(views[5], down_right.flip(-1))


def test_file_views_on_an_image_folder(tmp_path):
    root = write_image_folder(tmp_path, ["a", "b"], {"train": 1, "val": 2}, size=(30, 40))
    data = load_dataset("imagefolder", "test", root)
    image = data[(0, 0)][0]
    crops = file_transform("10crop", 16, 20, [])(image)
    assert crops.shape == (10, 3, 16, 16)
    assert torch.equal(crops[4], v2.CenterCrop(16)(v2.Resize(20, antialias=True)(image)))
    model = torch.nn.Sequential(torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten(),
                                torch.nn.Linear(3, 2))
    for mode in CROP_MODES:
        preds = predict(model, data, device=torch.device("cpu"),
                        spec=ViewSpec(mode, 16, 20, [16, 24]))
        assert preds.log_probs.shape == (4, 2) and preds.labels.tolist() == [0, 0, 1, 1]
        assert torch.allclose(preds.log_probs.exp().sum(1), torch.ones(4))


@pytest.fixture(scope="module")
def two_runs(fake_fashion, tmp_path_factory):
    base = tmp_path_factory.mktemp("ens")
    runs = []
    for seed in (0, 1):
        cfg = TrainConfig(data_dir=str(fake_fashion), epochs=1, batch_size=32, seed=seed,
                          train_subset=192, test_subset=100, holdout=60, quiet=True,
                          out=str(base / f"seed{seed}"))
        runs.append(train(cfg).out)
    return runs


def test_evaluate_cli_crop_modes(two_runs, capsys):
    results = {}
    for mode in CROP_MODES:
        assert main(["evaluate", str(two_runs[0]), "--crops", mode, "--limit", "50",
                     "--json"]) == 0
        results[mode] = json.loads(capsys.readouterr().out)
        assert results[mode]["crops"] == mode and results[mode]["samples"] == 50
    assert main(["evaluate", str(two_runs[0]), "--crops", "12crop"]) == 1
    assert "unknown crop mode" in capsys.readouterr().err


def test_uniform_ensemble_averages_probabilities(two_runs):
    report = ensemble_runs(two_runs, "uniform", limit=100)
    assert report.weights == [0.5, 0.5] and report.test_samples == 100
    names = [e.name for e in report.entries]
    assert sorted(names) == ["ensemble", "seed0", "seed1"]
    errors = [e.top5_error for e in report.entries]
    assert errors == sorted(errors)  # best first, as in the ILSVRC listings


def test_tuned_weights_use_the_holdout_and_help_on_it():
    labels = torch.tensor([0, 1, 2, 0, 1, 2])
    good = torch.nn.functional.one_hot(labels, 3).float() * 4
    noise = torch.zeros(6, 3)
    log_probs = torch.stack([good.log_softmax(1), noise.log_softmax(1)])
    w = tune_weights(log_probs, labels)
    assert w[0] > 0.95 and w.sum().item() == pytest.approx(1.0)
    mixed = average_probs(log_probs, torch.tensor([0.5, 0.5]))
    assert torch.allclose(mixed.float(), 0.5 * good.softmax(1) + 0.5 * noise.softmax(1), atol=1e-6)


def test_ensemble_cli_prints_the_table(two_runs, capsys):
    assert main(["ensemble", *map(str, two_runs), "--weights", "tuned", "--limit", "100"]) == 0
    out = capsys.readouterr().out
    assert "Top-5 error" in out and "Weighted average of 2 models" in out
    assert "60 held-out training images" in out
    assert main(["ensemble", str(two_runs[0])]) == 1
    assert "at least two" in capsys.readouterr().err
