"""`cnnlab viz ...` end to end: a tiny trained run and an ImageNet-size zoo model (random weights,
reduced input size), plus the one-line errors."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from cnnlab.cli import main
from cnnlab.imaging import save_image

IMAGE_COMMANDS = ["saliency", "guided-backprop", "deconvnet", "gradcam", "gradcam++"]


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory, fake_fashion):
    out = tmp_path_factory.mktemp("viz") / "run"
    assert main(["train", "--data-dir", str(fake_fashion), "--epochs", "1", "--out", str(out),
                 "--quiet", "--threads", "1"]) == 0
    return out


@pytest.fixture(scope="module")
def photo(tmp_path_factory):
    rng = np.random.default_rng(0)
    path = tmp_path_factory.mktemp("img") / "photo.png"
    return save_image(rng.integers(0, 255, size=(40, 50, 3), dtype=np.uint8), path)


def _run_json(capsys, argv: list[str]) -> dict:
    capsys.readouterr()
    assert main([*argv, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["png"].endswith(".png")
    return data


def test_every_picture_for_a_trained_run(tiny_run, photo, fake_fashion, tmp_path, capsys):
    run, data = str(tiny_run), ["--data-dir", str(fake_fashion)]
    calls = {
        "filters": ["filters", run],
        "activations": ["activations", run, str(photo), "--layer", "features.2", "--top", "4"],
        "receptive-field": ["receptive-field", run, str(photo), "--layer", "features.4"],
        "top-patches": ["top-patches", run, "--layer", "features.4", "--channel", "3",
                        "--limit", "50", "--top", "4", *data],
        "occlusion": ["occlusion", run, str(photo), "--target", "Bag"],
        **{m: [m, run, str(photo)] for m in IMAGE_COMMANDS},
        "confusion": ["confusion", run, "--limit", "100", *data],
        "mistakes": ["mistakes", run, "--limit", "100", "--top", "6", *data],
    }
    for name, argv in calls.items():
        out = tmp_path / f"{name}.png"
        result = _run_json(capsys, ["viz", *argv, "--out", str(out)])
        assert out.stat().st_size > 1000, name
    assert result["samples"] == 100 and len(result["shown"]) <= 6
    assert json.loads(capsys.readouterr().out or "{}") == {}
    assert _run_json(capsys, ["viz", "occlusion", run, str(photo), "--target", "Bag",
                              "--out", str(tmp_path / "o.png")])["target"]["class"] == 8
    assert np.load(tmp_path / "o.npy").shape == (28, 28)


def test_every_image_picture_for_an_imagenet_zoo_model(photo, tmp_path, capsys):
    model, size = ["resnet18", "--size", "64"], str(photo)
    folder = tmp_path / "images"
    for i in range(3):
        save_image(np.full((30, 30, 3), 60 * i, dtype=np.uint8), folder / f"{i}.png")
    calls = {
        "filters": ["filters", "resnet18", "--limit", "16"],
        "activations": ["activations", *model, size, "--layer", "layer3.1", "--top", "4"],
        "receptive-field": ["receptive-field", *model, size, "--layer", "layer2.0"],
        "top-patches": ["top-patches", *model, "--layer", "layer1.0", "--channel", "5",
                        "--images", str(folder), "--top", "2"],
        "occlusion": ["occlusion", *model, size, "--square", "16", "--stride", "16"],
        **{m: [m, *model, size] for m in IMAGE_COMMANDS},
    }
    results = {}
    for name, argv in calls.items():
        out = tmp_path / f"{name}.png"
        results[name] = _run_json(capsys, ["viz", *argv, "--out", str(out)])
        assert out.stat().st_size > 1000, name
    assert results["filters"]["mode"] == "rgb"
    assert results["filters"]["weight_shape"] == [64, 3, 7, 7]
    assert results["activations"]["output_shape"] == [256, 4, 4]
    assert results["gradcam"]["layer"] == "layer4"
    assert results["receptive-field"]["gradient_inside_theoretical"] == pytest.approx(1.0)
    assert len(results["top-patches"]["top"]) == 2


def test_torchvision_weights_file_is_accepted(photo, tmp_path, capsys):
    import torchvision

    weights = tmp_path / "resnet18.pth"
    torch.save(torchvision.models.resnet18().state_dict(), weights)
    data = _run_json(capsys, ["viz", "gradcam", "resnet18", str(photo), "--weights",
                              str(weights), "--size", "64", "--layer", "layer3",
                              "--out", str(tmp_path / "g.png")])
    assert data["layer"] == "layer3" and len(data["cam"]) == 4


@pytest.mark.parametrize(("argv", "message"), [
    (["activations", "smallcnn", "IMG", "--layer", "features.9"],
     "unknown layer 'features.9' in smallcnn: did you mean"),
    (["receptive-field", "smallcnn", "IMG", "--layer", "features.4", "--channel", "64"],
     "channel 64 is out of range: layer 'features.4' has 64 channels (0..63)"),
    (["gradcam", "smallcnn", "MISSING"], "no such file"),
    (["saliency", "smallcnn", "NOTIMAGE"], "not an image file"),
    (["filters", "smallcnn", "--layer", "features.1"], "is a BatchNorm2d, not a convolution"),
    (["occlusion", "smallcnn", "IMG", "--target", "cat"], "unknown class 'cat'"),
    (["top-patches", "resnet18", "--layer", "layer1", "--channel", "0"], "give --images"),
])
def test_errors_are_one_line(argv, message, photo, tmp_path, capsys):
    bad = tmp_path / "bad.png"
    bad.write_text("not a png")
    subst = {"IMG": str(photo), "MISSING": str(tmp_path / "nope.png"), "NOTIMAGE": str(bad)}
    argv = [subst.get(a, a) for a in argv]
    assert main(["viz", *argv, "--out", str(tmp_path / "x.png")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err and err.count("\n") == 1


def test_googlenet_inception_layer_and_functional_relus(photo, tmp_path, capsys):
    model = ["googlenet", "--size", "64"]
    maps = _run_json(capsys, ["viz", "activations", *model, str(photo), "--layer", "inception4a",
                              "--top", "3", "--out", str(tmp_path / "a.png")])
    assert maps["output_shape"] == [512, 4, 4]
    guided = _run_json(capsys, ["viz", "guided-backprop", *model, str(photo), "--target", "3",
                                "--out", str(tmp_path / "g.png")])
    saliency = _run_json(capsys, ["viz", "saliency", *model, str(photo), "--target", "3",
                                  "--out", str(tmp_path / "s.png")])
    # GoogLeNet calls F.relu: guided backprop must still differ from the plain gradient.
    assert not np.allclose(np.load(tmp_path / "g.npy"), np.load(tmp_path / "s.npy"))
    assert guided["target"]["class"] == saliency["target"]["class"] == 3
