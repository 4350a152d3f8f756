"""The Runs API against the run's own files and cnnlab's evaluation on the same predictions."""

from __future__ import annotations

import base64
import csv
import io
import json
import math
import os
import shutil

import numpy as np
import pytest
import torch
from PIL import Image
from starlette.testclient import TestClient
from torchvision.transforms import v2

from cnnlab.cli import main
from cnnlab.data import load_dataset
from cnnlab.data.synthetic import write_image_folder
from cnnlab.evaluation.evaluate import evaluate_run
from cnnlab.evaluation.metrics import confusion_matrix, per_class_accuracy
from cnnlab.evaluation.predict import ViewSpec, predict
from cnnlab.runs import load_checkpoint
from cnnlab.studio import runscores
from cnnlab.studio.config import StudioConfig
from cnnlab.studio.rundirs import list_runs
from cnnlab.studio.server import create_app
from cnnlab.training.config import TrainConfig
from cnnlab.training.trainer import train


def _csv_rows(folder):
    with (folder / "metrics.csv").open() as handle:
        return list(csv.DictReader(handle))


def _decode(url: str) -> np.ndarray:
    assert url.startswith("data:image/png;base64,")
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1]))))


@pytest.fixture(scope="module")
def oracle(tiny_run):
    """The library's own pass over the run's 200 test images: predicted classes and labels."""
    runs_dir, run_id = tiny_run
    model, meta = load_checkpoint(runs_dir / run_id)
    test = load_dataset("fashion-mnist", "test", meta["data_dir"]).subset(200)
    preds = predict(model, test, device=torch.device("cpu"), spec=ViewSpec("center"))
    return test, preds.log_probs.argmax(1), preds.labels


@pytest.fixture
def copied(tiny_run, tmp_path):
    """A client on a runs folder of its own holding a copy of the tiny run (free to damage)."""
    runs_dir, run_id = tiny_run
    root = tmp_path / "runs"
    shutil.copytree(runs_dir / run_id, root / "copy", ignore=shutil.ignore_patterns("state"))
    with TestClient(create_app(StudioConfig(runs_dir=root)), base_url="http://127.0.0.1") as c:
        yield c, root


def test_list_summarizes_each_run(runs_client, tiny_run):
    runs_dir, run_id = tiny_run
    answer = runs_client.get("/api/runs").json()
    assert sorted(row["id"] for row in answer["runs"]) == list_runs(runs_dir)
    row = next(r for r in answer["runs"] if r["id"] == run_id)
    last = _csv_rows(runs_dir / run_id)[-1]
    assert (row["model"], row["dataset"], row["epochs"], row["epochs_done"]) == (
        "smallcnn", "fashion-mnist", 2, 2)
    assert row["test_acc"] == pytest.approx(float(last["test_acc"]))
    assert row["training"] is False and row["has_checkpoint"] is True


def test_detail_is_the_runs_files(runs_client, tiny_run):
    runs_dir, run_id = tiny_run
    folder = runs_dir / run_id
    answer = runs_client.get(f"/api/runs/{run_id}").json()
    assert answer["config"] == json.loads((folder / "config.json").read_text())
    assert answer["checkpoint"] == json.loads((folder / "checkpoint.json").read_text())
    rows = _csv_rows(folder)
    assert len(answer["metrics"]) == len(rows) == 2
    for shown, row in zip(answer["metrics"], rows, strict=True):
        assert set(shown) == set(row)
        for key, text in row.items():
            assert shown[key] == (None if text == "" else pytest.approx(float(text))), key
    assert answer["evaluation"] is None and answer["ensemble"] is None
    polled = runs_client.get(f"/api/runs/{run_id}/metrics").json()
    assert polled["metrics"] == answer["metrics"] and polled["training"] is False


def test_scores_equal_the_librarys_on_the_same_predictions(runs_client, tiny_run, oracle):
    runs_dir, run_id = tiny_run
    _, predicted, labels = oracle
    report = runs_client.get(f"/api/runs/{run_id}/scores").json()
    matrix = confusion_matrix(predicted, labels, 10)
    assert report["samples"] == 200 and report["confusion"] == matrix.tolist()
    expected = per_class_accuracy(matrix).tolist()
    assert report["per_class_accuracy"] == [None if math.isnan(v) else pytest.approx(v)
                                            for v in expected]
    # the same images and views as the trainer's last test score
    assert report["accuracy"] == pytest.approx(float(_csv_rows(runs_dir / run_id)[-1]["test_acc"]))
    assert report["epoch"] == 2 and report["views"] == "center"


def test_images_filter_by_true_and_predicted_class(runs_client, tiny_run, oracle):
    _, run_id = tiny_run
    test, predicted, labels = oracle
    matrix = confusion_matrix(predicted, labels, 10)
    off = (matrix - torch.diag(matrix.diag())).argmax()
    i, j = int(off // 10), int(off % 10)
    assert matrix[i, j] > 0
    answer = runs_client.get(f"/api/runs/{run_id}/images?label={i}&predicted={j}&limit=100").json()
    expected = ((labels == i) & (predicted == j)).nonzero().flatten().tolist()
    assert answer["total"] == int(matrix[i, j]) == len(expected)
    assert [image["index"] for image in answer["images"]] == expected
    first = answer["images"][0]
    assert (first["label"], first["predicted"]) == (i, j)
    assert first["label_name"] == test.classes[i] and first["zoom"] == 4
    native = test.images[first["index"], 0].numpy()
    assert np.array_equal(_decode(first["url"]), native.repeat(4, 0).repeat(4, 1))

    by_class = runs_client.get(f"/api/runs/{run_id}/images?label={i}&limit=5&offset=2").json()
    row = (labels == i).nonzero().flatten().tolist()
    assert by_class["total"] == len(row) == int(matrix[i].sum())
    assert [image["index"] for image in by_class["images"]] == row[2:7]
    assert all(image["predicted"] == int(predicted[image["index"]])
               for image in by_class["images"])


@pytest.mark.parametrize("query", ["label=10", "label=-1", "label=x", "predicted=1.5",
                                   "limit=101", "offset=-3"])
def test_bad_image_filters_are_refused(runs_client, tiny_run, query):
    _, run_id = tiny_run
    answer = runs_client.get(f"/api/runs/{run_id}/images?{query}")
    assert answer.status_code == 400 and query.split("=")[0] in answer.json()["error"]


def test_one_image_as_png(runs_client, tiny_run, oracle):
    _, run_id = tiny_run
    test, predicted, _ = oracle
    answer = runs_client.get(f"/api/runs/{run_id}/image/7")
    assert answer.headers["content-type"] == "image/png"
    pixels = np.asarray(Image.open(io.BytesIO(answer.content)))
    assert np.array_equal(pixels, test.images[7, 0].numpy())
    assert answer.headers["x-label"] == str(int(test.labels[7]))
    assert answer.headers["x-predicted"] == str(int(predicted[7]))
    for bad in ("200", "x", "-1"):
        refused = runs_client.get(f"/api/runs/{run_id}/image/{bad}")
        assert refused.status_code == 404 and "test image" in refused.json()["error"]


@pytest.mark.parametrize("run_id", ["%2e%2e", "..%2F..%2Fetc", ".hidden", "a%00b", "%2Fetc",
                                    "no-such-run", "x" * 300])
@pytest.mark.parametrize("route", ["", "/metrics", "/scores", "/images", "/image/0"])
def test_ids_that_are_not_a_run_are_refused(runs_client, run_id, route):
    answer = runs_client.get(f"/api/runs/{run_id}{route}")
    assert answer.status_code in (400, 404)
    assert answer.json()["status"] == answer.status_code and "error" in answer.json()


def test_evaluate_and_ensemble_results_are_shown(copied, tmp_path, capsys):
    client, root = copied
    shutil.copytree(root / "copy", root / "other")
    assert main(["evaluate", str(root / "copy"), "--limit", "200", "--json"]) == 0
    assert main(["ensemble", str(root / "copy"), str(root / "other"), "--limit", "100",
                 "--out", str(root / "copy"), "--json"]) == 0
    capsys.readouterr()
    answer = client.get("/api/runs/copy").json()
    assert answer["evaluation"] == json.loads((root / "copy" / "evaluation.json").read_text())
    assert answer["ensemble"] == json.loads((root / "copy" / "ensemble.json").read_text())
    assert {e["name"] for e in answer["ensemble"]["entries"]} == {"copy", "other", "ensemble"}
    # `cnnlab evaluate` on the same 200 images agrees with the page's scores
    scores = client.get("/api/runs/copy/scores").json()
    assert scores["confusion"] == answer["evaluation"]["confusion"]
    assert scores["accuracy"] == pytest.approx(answer["evaluation"]["top1_acc"])


def test_a_corrupt_checkpoint_is_a_422_and_the_server_goes_on(copied):
    client, root = copied
    (root / "copy" / "checkpoint.safetensors").write_bytes(b"not a safetensors file")
    answer = client.get("/api/runs/copy/scores")
    assert answer.status_code == 422
    error = answer.json()["error"]
    assert "cannot read weights" in error and "copy/checkpoint.safetensors" in error
    assert str(root) not in error  # no path of the server's disk
    assert client.get("/api/runs").status_code == 200
    assert client.get("/api/runs/copy").json()["metrics"]


def test_corrupt_metadata_is_named_and_the_list_still_answers(copied):
    client, root = copied
    shutil.copytree(root / "copy", root / "good")
    (root / "copy" / "checkpoint.json").write_text("{not json")
    rows = {row["id"]: row for row in client.get("/api/runs").json()["runs"]}
    assert "checkpoint.json is not valid JSON" in rows["copy"]["error"]
    assert rows["good"]["epochs_done"] == 2
    answer = client.get("/api/runs/copy")
    assert answer.status_code == 422 and "checkpoint.json" in answer.json()["error"]


def test_a_missing_dataset_is_a_422_naming_it(copied):
    client, root = copied
    meta_file = root / "copy" / "checkpoint.json"
    meta = json.loads(meta_file.read_text())
    meta_file.write_text(json.dumps({**meta, "data_dir": str(root / "gone")}))
    answer = client.get("/api/runs/copy/scores")
    assert answer.status_code == 422 and "Fashion-MNIST" in answer.json()["error"]


def test_a_run_without_checkpoint_yet_is_a_409(copied):
    client, root = copied
    (root / "fresh").mkdir()
    shutil.copy(root / "copy" / "config.json", root / "fresh" / "config.json")
    assert client.get("/api/runs/fresh").json()["metrics"] == []
    answer = client.get("/api/runs/fresh/images")
    assert answer.status_code == 409 and "no checkpoint yet" in answer.json()["error"]


@pytest.fixture(scope="module")
def folder_run(tmp_path_factory):
    """A client on a runs folder with one run trained on an image-file dataset (3 classes)."""
    base = tmp_path_factory.mktemp("folder-run")
    data = write_image_folder(base / "data", ["a", "b", "c"], {"train": 12, "val": 6})
    train(TrainConfig(model="smallcnn", dataset="imagefolder", data_dir=str(data),
                      image_size=32, epochs=1, batch_size=12, quiet=True,
                      out=str(base / "runs" / "files")))
    with TestClient(create_app(StudioConfig(runs_dir=base / "runs")),
                    base_url="http://127.0.0.1") as client:
        yield client, base / "runs" / "files"


def test_a_run_on_image_files_is_scored_and_shown_as_the_model_saw_it(folder_run):
    client, folder = folder_run
    report = client.get("/api/runs/files/scores").json()
    expected = evaluate_run(folder)
    assert report["samples"] == expected.samples == 18
    assert report["confusion"] == expected.confusion.tolist()
    answer = client.get("/api/runs/files/images?label=2&limit=3").json()
    assert answer["total"] == 6 and [im["label"] for im in answer["images"]] == [2, 2, 2]
    first = answer["images"][0]
    path = load_dataset("imagefolder", "test", folder.parent.parent / "data").samples[
        first["index"]][0]
    image = torch.from_numpy(np.array(Image.open(path).convert("RGB"))).permute(2, 0, 1)
    seen = v2.CenterCrop(32)(v2.Resize(37, antialias=True)(image)).permute(1, 2, 0).numpy()
    assert first["zoom"] == 4  # 32 pixels, enlarged to 128
    assert np.array_equal(_decode(first["url"]), seen.repeat(4, 0).repeat(4, 1))


def test_scores_are_kept_per_checkpoint_version_and_bounded(copied, monkeypatch):
    _, root = copied
    folder, calls = root / "copy", []
    real = runscores.score_run
    monkeypatch.setattr(runscores, "score_run",
                        lambda run_id, path: calls.append(run_id) or real(run_id, path))
    cache = runscores.ScoreCache(kept=1)
    first = cache.get("copy", folder)
    assert cache.get("copy", folder) is first and len(calls) == 1
    weights = folder / "checkpoint.safetensors"
    before = weights.stat().st_mtime_ns
    os.utime(weights, ns=(before + 10**9, before + 10**9))  # a new checkpoint was saved
    assert cache.get("copy", folder) is not first and len(calls) == 2
    os.utime(weights, ns=(before, before))  # the first version was dropped (kept=1)
    cache.get("copy", folder)
    assert len(calls) == 3
