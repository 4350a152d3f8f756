"""A short training run learns, writes a complete run folder, and its checkpoint reloads."""

from __future__ import annotations

import csv
import json

import pytest
import torch

from cnnlab.evaluation.metrics import confusion_matrix, per_class_accuracy, topk_accuracy
from cnnlab.runs import load_checkpoint
from cnnlab.training import TrainConfig, train


@pytest.fixture(scope="module")
def short_run(fake_fashion, tmp_path_factory):
    out = tmp_path_factory.mktemp("run") / "short"
    cfg = TrainConfig(data_dir=str(fake_fashion), epochs=2, batch_size=32, lr=0.05,
                      out=str(out), quiet=True, device="cpu")
    return train(cfg)


def test_short_training_learns(short_run):
    assert short_run.rows[-1]["test_acc"] > 0.5  # chance is 0.1 on ten balanced classes


def test_run_folder_is_complete(short_run):
    out = short_run.out
    config = json.loads((out / "config.json").read_text())
    assert config["model"] == "smallcnn" and config["epochs"] == 2 and "versions" in config
    with open(out / "metrics.csv") as handle:
        rows = list(csv.DictReader(handle))
    assert [int(r["epoch"]) for r in rows] == [1, 2]
    assert (out / "curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    meta = json.loads((out / "checkpoint.json").read_text())
    for key in ("model", "model_args", "classes", "normalization", "input_size", "metrics",
                "versions"):
        assert key in meta
    assert not list(out.glob("*.tmp")), "temp files left behind"
    import os

    mask = os.umask(0)
    os.umask(mask)
    for name in ("checkpoint.safetensors", "checkpoint.json", "metrics.csv"):
        assert (out / name).stat().st_mode & 0o777 == 0o666 & ~mask, name


def test_checkpoint_reloads_with_same_outputs(short_run, fake_fashion):
    model, meta = load_checkpoint(short_run.out)
    assert meta["classes"][9] == "Ankle boot"
    x = torch.randn(3, 1, 28, 28)
    with torch.no_grad():
        again, _ = load_checkpoint(short_run.out)
        assert torch.equal(model(x), again(x))


def test_topk_and_confusion_by_hand():
    logits = torch.tensor([[0.1, 0.9, 0.0], [0.8, 0.15, 0.05], [0.2, 0.3, 0.5]])
    labels = torch.tensor([1, 1, 0])
    top1, top2 = topk_accuracy(logits, labels, ks=(1, 2))
    assert top1 == pytest.approx(1 / 3) and top2 == pytest.approx(2 / 3)
    matrix = confusion_matrix(logits.argmax(1), labels, 3)
    assert matrix.tolist() == [[0, 0, 1], [1, 1, 0], [0, 0, 0]]
    recall = per_class_accuracy(matrix)
    assert recall[1] == pytest.approx(0.5) and recall[0] == 0 and torch.isnan(recall[2])
