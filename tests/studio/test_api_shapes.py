"""/api/shapes: `cnnlab shape`'s rows, receptive fields, and the lecture's VGG-16 table."""

from __future__ import annotations

import json

import pytest

from cnnlab.cli import main
from cnnlab.complexity.receptive_field import receptive_fields
from cnnlab.models import get_model
from cnnlab.papers.tables import VGG16_LAYERS

ALEXNET = ["conv:96,11,4", "pool:3,2", "conv:256,5,1,2", "pool:3,2", "conv:384,3,1,1",
           "conv:384,3,1,1", "conv:256,3,1,1", "pool:3,2", "fc:4096", "fc:4096", "fc:1000"]


@pytest.fixture
def vgg16(client):
    preset = client.get("/api/shapes/presets").json()["vgg16"]
    answer = client.post("/api/shapes", json={"input": preset["input"], "layers": preset["layers"],
                                              "compare": preset["compare"]})
    assert answer.status_code == 200
    return preset, answer.json()


def _cli_json(capsys, size: str, layers: list[str], rounding: str = "strict") -> dict:
    assert main(["shape", "--input", size, "--rounding", rounding, "--json", *layers]) == 0
    return json.loads(capsys.readouterr().out)


@pytest.mark.parametrize(("size", "layers", "rounding"), [
    ("227x227x3", ALEXNET, "strict"),
    ("32x32x3", ["conv:6,5"], "strict"),
    ("7x7", ["conv:1,3,2"], "strict"),
    ("224x224x3", ["conv:64,7,2,3", "pool:3,2,1", "relu", "avgpool:7,7"], "floor"),
])
def test_rows_equal_cnnlab_shape_json(client, capsys, size, layers, rounding):
    cli = _cli_json(capsys, size, layers, rounding)
    answer = client.post("/api/shapes", json={"input": size, "layers": layers,
                                              "rounding": rounding}).json()
    assert answer["input"] == cli["input"]
    fields = ("layer", "formula", "output", "weights", "biases", "activations")
    assert [{k: r[k] for k in fields} for r in answer["layers"]] == cli["layers"]


def test_vgg16_preset_matches_every_slide_row(vgg16):
    preset, answer = vgg16
    assert len(preset["layers"]) == len(VGG16_LAYERS) - 1
    assert [r["output"] for r in answer["layers"]] == [list(v.shape) for v in VGG16_LAYERS[1:]]
    assert [r["weights"] for r in answer["layers"]] == [v.params for v in VGG16_LAYERS[1:]]
    assert all(row["matches"] for row in answer["slide"]["rows"])
    # "138M parameters" on the slide; 138,357,544 with biases, as torchvision's vgg16.
    assert answer["total_params"] == 138_357_544
    assert any("24M" in note for note in answer["slide"]["notes"])


def test_vgg16_receptive_fields_equal_the_traced_model(vgg16):
    _, answer = vgg16
    # The traced torch model's fields (complexity.receptive_field on vgg16 itself): the
    # preset's conv5_3 is features.28, its last pool features.30.
    traced = receptive_fields(get_model("vgg16"), (3, 224, 224))
    convs = [r for r in answer["layers"] if r["layer"].startswith("conv")]
    assert convs[-1]["receptive_field"]["size"] == list(traced["features.28"].size)
    assert convs[-1]["receptive_field"]["jump"] == list(traced["features.28"].jump)
    pool5 = answer["layers"][17]["receptive_field"]
    assert pool5["size"] == list(traced["features.30"].size) and pool5["jump"] == [32, 32]
    assert answer["layers"][-1]["receptive_field"]["global"] is True


def test_an_edited_preset_is_flagged_against_the_slide(client, vgg16):
    preset, _ = vgg16
    layers = list(preset["layers"])
    layers[0] = "conv:32,3,1,1"
    answer = client.post("/api/shapes", json={"input": preset["input"], "layers": layers,
                                              "compare": "vgg16"}).json()
    verdicts = [row["matches"] for row in answer["slide"]["rows"]]
    assert verdicts[0] is True and verdicts[1] is False and verdicts[2] is False


@pytest.mark.parametrize(("body", "words"), [
    ({"layers": ["conv:64,3", "bogus:1"]}, "layer 2: unknown layer"),
    ({"layers": []}, "1 to 64 layers"),
    ({"layers": [3]}, "layer 1: write it as text"),
    ({"input": "224x224", "layers": ["conv:1,3,2"]}, "not an integer"),
    ({"input": "abc", "layers": ["relu"]}, "write H x W x C"),
    ({"layers": ["relu"], "rounding": "up"}, "'rounding'"),
    ({"layers": ["relu"], "compare": "alexnet"}, "'compare'"),
])
def test_bad_layers_get_a_400_naming_the_cause(client, body, words):
    answer = client.post("/api/shapes", json=body)
    assert answer.status_code == 400
    assert words in answer.json()["error"]
