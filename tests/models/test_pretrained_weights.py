"""--weights on train, evaluate and predict; safe loading; ImageNet class names offline; the
builder options a weight provider's file needs."""

from __future__ import annotations

import json

import pytest
import torch
import torchvision
from PIL import Image
from safetensors.torch import save_file

from cnnlab.checkpoint import load_state_file
from cnnlab.cli import main
from cnnlab.errors import CnnlabError
from cnnlab.models import get_model
from cnnlab.models.weights import load_pretrained
from cnnlab.runs import load_checkpoint, resolve_model


class NotATensor:
    """Anything but a tensor: torch.load(weights_only=True) must refuse to build it."""


@pytest.fixture
def image(tmp_path):
    path = tmp_path / "photo.jpg"
    Image.new("RGB", (80, 60), (200, 30, 40)).save(path)
    return path


def test_pickled_objects_are_refused(tmp_path):
    path = tmp_path / "evil.pth"
    torch.save({"weight": NotATensor()}, path)
    with pytest.raises(CnnlabError, match="refused to load|cannot read weights"):
        load_state_file(path)


def test_predict_zoo_model_with_torchvision_weights(tmp_path, image, capsys):
    torch.manual_seed(0)
    weights = tmp_path / "resnet18-tv.pth"
    torch.save(torchvision.models.resnet18().state_dict(), weights)
    assert main(["predict", "resnet18", str(image), "--weights", str(weights), "--json"]) == 0
    top = json.loads(capsys.readouterr().out)[0]["top"]
    categories = torchvision.models.ResNet18_Weights.IMAGENET1K_V1.meta["categories"]
    assert len(top) == 5 and all(t["class"] == categories[t["index"]] for t in top)


def test_predict_gray_zoo_model_without_weights(image, capsys):
    assert main(["predict", "smallcnn", str(image), "--json", "--top", "2"]) == 0
    top = json.loads(capsys.readouterr().out)[0]["top"]
    assert len(top) == 2 and top[0]["class"] in ("T-shirt/top", "Trouser", "Pullover", "Dress",
                                                 "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
                                                 "Ankle boot")


def test_evaluate_and_finetune_from_weights(tmp_path, fake_fashion, capsys):
    torch.manual_seed(1)
    source = get_model("smallcnn")
    weights = tmp_path / "small.safetensors"
    save_file({k: v.contiguous() for k, v in source.state_dict().items()}, str(weights))
    assert main(["evaluate", "smallcnn", "--weights", str(weights), "--data-dir",
                 str(fake_fashion), "--out", str(tmp_path / "ev"), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["samples"] == 200 and (tmp_path / "ev" / "confusion.png").exists()
    out = tmp_path / "run"
    assert main(["train", "--weights", str(weights), "--data-dir", str(fake_fashion),
                 "--epochs", "1", "--lr", "1e-9", "--out", str(out), "--quiet",
                 "--device", "cpu"]) == 0
    tuned, _ = load_checkpoint(out)
    # A tiny learning rate leaves the conv weights where the file put them.
    assert torch.allclose(tuned.features[0].weight, source.features[0].weight, atol=1e-6)


def test_new_head_for_finetuning():
    imagenet = get_model("resnet18")
    ten = get_model("resnet18", num_classes=10)
    with pytest.raises(CnnlabError, match="weights do not fit resnet18"):
        load_pretrained(get_model("resnet18", num_classes=10), imagenet.state_dict())
    load_pretrained(ten, imagenet.state_dict(), new_head=True)
    assert torch.equal(ten.conv1.weight, imagenet.conv1.weight)
    assert ten.fc.weight.shape == (10, 512)


def test_torchvision_googlenet_weights_turn_on_its_input_transform(tmp_path):
    # torchvision's GoogLeNet weights expect transform_input=True; googlenet_bn declares it.
    weights = tmp_path / "googlenet-tv.pth"
    reference = torchvision.models.googlenet(aux_logits=True, init_weights=True)
    torch.save(reference.state_dict(), weights)
    model, meta = resolve_model("googlenet_bn", weights=weights)
    assert model.transform_input and meta["model_args"]["transform_input"] is True
    assert torch.equal(model.fc.weight, reference.fc.weight)
    plain, plain_meta = resolve_model("googlenet_bn")
    assert not plain.transform_input and "transform_input" not in plain_meta["model_args"]
