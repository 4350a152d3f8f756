"""`cnnlab profile` end to end, including the errors a user can cause."""

from __future__ import annotations

import csv
import io
import json

import pytest

from cnnlab.checkpoint import save_checkpoint
from cnnlab.cli import main
from cnnlab.models import get_model


def run(capsys, *args: str) -> tuple[int, str, str]:
    status = main(list(args))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_profile_json(capsys):
    status, out, _ = run(capsys, "profile", "smallcnn", "--format", "json", "--batch", "2")
    data = json.loads(out)
    assert status == 0 and data["params"] == 824_554 and data["batch"] == 2
    assert data["flops"] == 2 * data["macs"] == 2 * 2 * 4_643_840
    assert data["rows"][0]["field"] == {"size": [3, 3], "jump": [1, 1], "start": [0, 0],
                                        "exact": True}


def test_profile_table_csv_markdown(capsys, tmp_path):
    status, out, _ = run(capsys, "profile", "vgg16", "--other", "--flops")
    assert status == 0 and "138,357,544" in out and "10.6% / 89.4%" in out
    status, out, _ = run(capsys, "profile", "vgg16", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    conv = next(r for r in rows if r["layer"] == "features.0")
    assert conv["weights"] == "1728" and conv["macs"] == str(224 * 224 * 64 * 27)
    assert {r["level"] for r in rows} == {"layer", "block"}
    target = tmp_path / "vgg16.md"
    status, out, _ = run(capsys, "profile", "vgg16", "--format", "markdown", "--input", "64",
                         "--out", str(target))
    assert status == 0 and out.startswith("### vgg16 at 3x64x64") and target.read_text() == out


def test_profile_run_folder(capsys, tmp_path):
    model = get_model("smallcnn", num_classes=7)
    save_checkpoint(tmp_path, model, {"model": "smallcnn", "model_args": {"num_classes": 7},
                                      "input_size": [1, 32, 32]})
    status, out, _ = run(capsys, "profile", str(tmp_path), "--format", "json")
    data = json.loads(out)
    assert status == 0 and data["input_size"] == [1, 32, 32]
    assert data["params"] == sum(p.numel() for p in model.parameters())


@pytest.mark.parametrize(("args", "message"), [
    (["profile", "nosuchnet"], "unknown model"),
    (["profile", "alexnet", "--input", "3x224"], "too small"),  # read as H=3, W=224
    (["profile", "alexnet", "--input", "3xabc"], "malformed --input"),
    (["profile", "alexnet", "--input", "3x31x31"], "too small"),
    (["profile", "smallcnn", "--batch", "0"], "--batch"),
    (["profile", "smallcnn", "--optimizer", "lion"], "--optimizer"),
    (["profile", "./no/such/run"], "no such run folder"),
])
def test_profile_errors_are_one_line(capsys, args, message):
    status, _, err = run(capsys, *args)
    assert status != 0 and err.startswith("error: ") and message in err
    assert "Traceback" not in err and err.count("\n") == 1
