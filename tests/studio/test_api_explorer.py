"""The Model explorer's API against the library and the CLI it mirrors: `cnnlab profile`,
`cnnlab predict`, and `cnnlab viz`'s activation maps, receptive fields and Grad-CAM."""

from __future__ import annotations

import csv
import io
import json

import numpy as np
import pytest
import torch
from PIL import Image
from safetensors.torch import save_file
from starlette.testclient import TestClient

from cnnlab.cli import main
from cnnlab.complexity.profiler import profile
from cnnlab.complexity.receptive_field import receptive_field_map
from cnnlab.data import load_dataset
from cnnlab.errors import CnnlabError
from cnnlab.imaging import load_sample
from cnnlab.inference.classify import preprocess_array
from cnnlab.models import get_model, list_models, model_info
from cnnlab.runs import load_checkpoint, meta_model
from cnnlab.studio.config import StudioConfig
from cnnlab.studio.explorer_structure import block_tree
from cnnlab.studio.server import create_app
from cnnlab.visualize.activations import activation_maps
from cnnlab.visualize.attribution import cam_map
from cnnlab.visualize.inputs import load_subject


@pytest.fixture(scope="module")
def smallcnn_weights(tmp_path_factory):
    path = tmp_path_factory.mktemp("weights") / "smallcnn.safetensors"
    torch.manual_seed(3)
    save_file(get_model("smallcnn").state_dict(), str(path))
    return path


@pytest.fixture(scope="module")
def api(explorer_runs, smallcnn_weights):
    runs, _ = explorer_runs
    config = StudioConfig(runs_dir=runs, weights=(("smallcnn", str(smallcnn_weights)),),
                          models_kept=2, time_limit_s=120)
    with TestClient(create_app(config), base_url="http://127.0.0.1") as test_client:
        yield test_client


def _cli_json(capsys, argv: list[str]):
    capsys.readouterr()
    assert main(argv) == 0
    return json.loads(capsys.readouterr().out)


@pytest.mark.parametrize(("name", "size"), [("alexnet", None), ("googlenet", None),
                                            ("resnet18", 112), ("smallcnn", None),
                                            ("se_resnet50", 96)])
def test_table_equals_cnnlab_profile(api, capsys, name, size):
    body = {"model": name, **({"size": size} if size else {}), "flops": True}
    answer = api.post("/api/explorer/table", json=body).json()
    argv = ["profile", name, *(["--input", str(size)] if size else [])]
    assert answer["profile"] == _cli_json(capsys, [*argv, "--json"])
    capsys.readouterr()
    assert main([*argv, "--format", "csv", "--flops"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    layers = [r for r in rows if r["level"] == "layer"]
    column = {c: i for i, c in enumerate(answer["columns"])}
    assert [cells[0] for cells in answer["layers"]] == [r["layer"] for r in layers]
    assert [cells[column["MACs"]] for cells in answer["layers"]] == [
        f"{int(r['macs']):,}" for r in layers]
    assert [cells[column["FLOPs"]] for cells in answer["layers"]] == [
        f"{int(r['flops']):,}" for r in layers]
    assert [cells[column["RF size"]] for cells in answer["layers"]] == [
        r["rf_size"] for r in layers]
    structure = api.post("/api/explorer/structure", json=body).json()
    assert structure["tree"]["params"] == answer["profile"]["params"]
    assert structure["tree"]["macs"] == answer["profile"]["macs"]


def _roles(node, found=None):
    found = found if found is not None else {}
    found.setdefault(node["role"], []).append(node)
    for child in node["children"]:
        _roles(child, found)
    return found


def _tree(api, body: dict) -> dict:
    return api.post("/api/explorer/structure", json=body).json()["tree"]


def test_structure_follows_the_real_blocks(api):
    googlenet = _roles(_tree(api, {"model": "googlenet"}))
    inception = next(n for n in googlenet["inception"] if n["name"] == "inception3a")
    assert [c["label"] for c in inception["children"]] == [f"branch{i}" for i in range(1, 5)]
    assert inception["shape"] == [256, 28, 28]  # GoogLeNet's Table 1: 28x28x256
    assert [n["label"] for n in googlenet["stem"]] == ["stem"]
    resnet = _roles(api.post("/api/explorer/structure", json={"model": "se_resnet50",
                                                              "size": 96}).json()["tree"])
    assert [s["name"] for s in resnet["stage"]] == ["layer1", "layer2", "layer3", "layer4"]
    assert len(resnet["residual"]) == 3 + 4 + 6 + 3
    assert {b["shortcut"] for b in resnet["residual"]} == {"identity", "projection"}
    assert len(resnet["se"]) == 16 and resnet["shortcut"][0]["name"] == "layer1.0.downsample"
    alexnet = _roles(api.post("/api/explorer/structure", json={"model": "alexnet"}).json()["tree"])
    assert [n["name"] for n in alexnet["grouped"]] == ["features.4", "features.10", "features.12"]
    assert all(n["conv"]["groups"] == 2 for n in alexnet["grouped"])
    v3 = _roles(_tree(api, {"model": "inception_v3"}))
    mixed = next(n for n in v3["inception"] if n["name"] == "Mixed_5b")
    assert [c["label"] for c in mixed["children"]] == ["branch1x1", "branch5x5",
                                                       "branch3x3dbl", "branch_pool"]


@pytest.fixture(scope="module")
def png_path(tmp_path_factory):
    rng = np.random.default_rng(1)
    image = np.kron(rng.integers(0, 256, (10, 12, 3)), np.ones((6, 6, 1))).astype(np.uint8)
    path = tmp_path_factory.mktemp("img") / "photo.png"
    Image.fromarray(image).save(path)
    return path


def _upload(api, path) -> dict:
    answer = api.post("/api/photos", content=path.read_bytes(),
                      headers={"content-type": "image/png", "x-filename": "photo.png"})
    assert answer.status_code == 201
    return {"photo": answer.json()["id"]}


def test_top5_equals_cnnlab_predict(api, capsys, explorer_runs, png_path, smallcnn_weights):
    runs, run_id = explorer_runs
    image = _upload(api, png_path)
    for body, argv in [({"run": run_id}, [str(runs / run_id)]),
                       ({"model": "smallcnn"}, ["smallcnn", "--weights", str(smallcnn_weights)])]:
        answer = api.post("/api/explorer/predict", json={**body, "image": image}).json()
        cli = _cli_json(capsys, ["predict", *argv, str(png_path), "--json"])[0]
        assert answer["top"] == cli["top"]
        assert "random" not in answer["weights"]
        assert (answer["input"]["height"], answer["input"]["width"]) == (28, 28)
    answer = api.post("/api/explorer/predict", json={"model": "resnet18", "size": 64,
                                                     "image": image}).json()
    assert answer["weights"].startswith("random")
    assert len(answer["top"]) == 5


def test_maps_equal_the_library(api, explorer_runs, decode):
    runs, run_id = explorer_runs
    body = {"run": run_id, "image": {"run": run_id, "index": 3}, "layer": "features.3"}
    answer = api.post("/api/explorer/activations", json=body).json()
    model, meta = load_checkpoint(runs / run_id)
    test = load_dataset("fashion-mnist", "test", json.loads(
        (runs / run_id / "config.json").read_text())["data_dir"])
    x = test.normalize(test.images[3:4])
    assert torch.allclose(preprocess_array(test.images[3, 0].numpy(), meta, "no"), x, atol=1e-6)
    maps = activation_maps(model, "features.3", x, 16)
    assert [c["channel"] for c in answer["channels"]] == maps.channels
    scale = float(maps.maps.max())
    for payload, expected in zip(answer["maps"], maps.maps, strict=True):
        levels = np.round(np.clip(expected / scale, 0, 1) * 255)
        assert np.abs(decode(payload).astype(int) - levels).max() <= 1
    field = api.post("/api/explorer/receptive-field", json={**body, "channel": 2, "y": 4,
                                                            "x": 5}).json()
    expected = receptive_field_map(model, x, "features.3", 2, 4, 5).to_dict()
    assert field["theoretical_box"] == expected["theoretical_box"]
    assert field["effective_box"] == expected["effective_box"]


def test_gradcam_and_zoo_activations_equal_the_library(api, decode):
    body = {"model": "smallcnn", "image": {"photo": "sample:camera"}}
    model, meta = load_subject("smallcnn", api.app.state.config.weights_for("smallcnn"))
    x = preprocess_array(load_sample("camera", True), meta)
    answer = api.post("/api/explorer/attribution", json={**body, "method": "gradcam"}).json()
    expected = cam_map(model, x, "gradcam", classes=meta["classes"]).to_dict()
    assert answer["layer"] == expected["layer"] and answer["target"] == expected["target"]
    assert answer["map_argmax_yx"] == expected["map_argmax_yx"]
    assert answer["map_max"] == pytest.approx(expected["map_max"], rel=1e-5)
    acts = api.post("/api/explorer/activations", json={**body, "layer": "features.0",
                                                       "top": 4}).json()
    assert [c["channel"] for c in acts["channels"]] == activation_maps(
        model, "features.0", x, 4).channels
    for method in ("gradcam++", "saliency", "guided-backprop", "deconvnet", "occlusion"):
        answer = api.post("/api/explorer/attribution", json={**body, "method": method,
                                                             "square": 7, "stride": 7})
        assert answer.status_code == 200, answer.json()
        heat = decode(answer.json()["heat"])
        assert heat.shape == (28, 28, 3)


def test_filters_and_top_patches(api, explorer_runs, decode):
    _, run_id = explorer_runs
    filters = api.post("/api/explorer/filters", json={"run": run_id}).json()
    assert filters["mode"] == "gray" and len(filters["tiles"]) == filters["weight_shape"][0]
    rgb = api.post("/api/explorer/filters", json={"model": "alexnet"}).json()
    assert rgb["mode"] == "rgb" and decode(rgb["tiles"][0]).shape == (11, 11, 3)
    patches = api.post("/api/explorer/top-patches", json={"run": run_id, "layer": "features.3",
                                                          "channel": 1, "images": 50}).json()
    acts = [t["activation"] for t in patches["top"]]
    assert len(acts) == 9 and acts == sorted(acts, reverse=True) and patches["images"] == 50


@pytest.mark.parametrize(("path", "body", "status", "words"), [
    ("structure", {"model": "resnet9000"}, 404, "unknown model"),
    ("structure", {}, 400, "either a zoo model"),
    ("structure", {"model": "resnet18", "run": "tiny"}, 400, "either a zoo model"),
    ("structure", {"run": "../tiny"}, 400, "not a run id"),
    ("structure", {"run": "nothere"}, 404, "no run"),
    ("predict", {"run": "broken", "image": {"photo": "sample:camera"}}, 400, "safetensors"),
    ("activations", {"model": "smallcnn", "image": {"photo": "sample:camera"},
                     "layer": "features.99"}, 400, "unknown layer"),
    ("activations", {"model": "smallcnn", "image": {"photo": "upload:0123"},
                     "layer": "features.0"}, 404, "upload it again"),
    ("activations", {"model": "smallcnn", "image": {"photo": "/etc/passwd"},
                     "layer": "features.0"}, 404, "no photo"),
    ("predict", {"model": "smallcnn"}, 400, "missing field 'image'"),
    ("predict", {"model": "smallcnn", "image": {"run": "tiny", "index": 10**6}}, 400,
     "index"),
    ("attribution", {"model": "smallcnn", "image": {"photo": "sample:camera"},
                     "method": "magic"}, 400, "method"),
    ("top-patches", {"model": "smallcnn", "layer": "features.0", "channel": 0}, 400,
     "zoo model"),
    ("structure", {"model": "resnet18", "size": 100000}, 400, "size"),
])
def test_errors_are_4xx_with_the_cause(api, path, body, status, words):
    answer = api.post(f"/api/explorer/{path}", json=body)
    assert answer.status_code == status, answer.json()
    assert words in answer.json()["error"]
    assert api.post("/api/explorer/structure", json={"model": "smallcnn"}).status_code == 200


def test_bad_upload_is_refused_and_the_lru_is_bounded(api):
    answer = api.post("/api/photos", content=b"GIF89a not really",
                      headers={"content-type": "image/gif"})
    assert answer.status_code == 415
    image = {"photo": "sample:camera"}
    for body in ({"model": "smallcnn"}, {"model": "smallcnn", "size": 32},
                 {"model": "stacknet"}):
        assert api.post("/api/explorer/predict", json={**body, "image": image}).status_code == 200
    assert api.app.state.explorer.names() == ["smallcnn at 32x32", "stacknet"]


def test_studio_weights_option_is_checked_at_start(tmp_path, capsys):
    from cnnlab.cli.studio import parse_weights

    weights = tmp_path / "w.safetensors"
    weights.write_bytes(b"x")
    assert parse_weights([f"smallcnn={weights}", "resnet18=torchvision"]) == (
        ("smallcnn", str(weights.resolve())), ("resnet18", "torchvision"))
    for spec, words in [("smallcnn", "NAME=FILE"), ("nope=torchvision", "unknown model"),
                        ("smallcnn=missing.pth", "no such file")]:
        with pytest.raises(CnnlabError, match=words):
            parse_weights([spec])
    capsys.readouterr()
    assert main(["studio", "--port", "0", "--weights", "resnet9000=torchvision"]) == 1
    assert capsys.readouterr().err == ("error: --weights 'resnet9000=torchvision': unknown "
                                       "model 'resnet9000' (`cnnlab models` lists them)\n")


def _one_per_family() -> list[str]:
    """The shortest name of every family in the registry (resnet18, plain20, vgg11, ...): each
    family's block classes, at the cost of its smallest member."""
    families: dict[str, list[str]] = {}
    for name in list_models():
        families.setdefault(model_info(name).family, []).append(name)
    return sorted(min(names, key=lambda n: (len(n), n)) for names in families.values())


@pytest.mark.parametrize("name", _one_per_family())
def test_every_family_has_a_block_tree_that_adds_up(name):
    model, size = meta_model(name)
    result = profile(model, size)
    tree = block_tree(model, size, result)
    assert tree["params"] == result.params and tree["macs"] == result.macs

    def leaves(node):
        return [node] if not node["children"] else [x for c in node["children"] for x in leaves(c)]

    # Every layer the profiler counted is a leaf of the tree, once (auxiliary heads aside).
    names = [n["name"] for n in leaves(tree) if n["layer"]]
    assert len(names) == len(set(names))
    counted = {r.name.split("#")[0] for r in result.rows if r.params}
    assert counted <= set(names)
