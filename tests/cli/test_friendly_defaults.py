"""Friendlier defaults: output that is not a terminal is not wrapped at 80 columns and draws no
progress bar; --json on the commands that print results; one default layer for the viz
commands that look at a layer; `trace conv` with no option traces the lecture's example."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from cnnlab.cli import main
from cnnlab.imaging import save_image
from cnnlab.models import get_model, list_models, model_info
from cnnlab.models.feature_extraction import last_spatial_layer

SRC = Path(__file__).resolve().parents[2] / "src"


def test_piped_output_is_not_wrapped_at_80_columns():
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    env.pop("COLUMNS", None)
    done = subprocess.run([sys.executable, "-m", "cnnlab", "models"], capture_output=True,
                          text=True, env=env, timeout=120, check=True)
    lines = done.stdout.splitlines()
    assert max(map(len, lines)) > 80 and "…" not in done.stdout
    for name in list_models():  # each model is one row, its full name not cut or wrapped
        info = model_info(name)
        assert any(f" {name} " in ln and info.full_name in ln for ln in lines), name


def test_training_in_a_log_prints_epoch_lines_but_no_progress_bar(fake_fashion, tmp_path,
                                                                 capsys):
    assert main(["train", "--data-dir", str(fake_fashion), "--epochs", "1", "--out",
                 str(tmp_path / "run"), "--threads", "1", "--device", "cpu"]) == 0
    err = capsys.readouterr().err
    assert "epoch 1: train loss" in err
    assert "━" not in err and "img/s" in err  # the epoch line, never a redrawn bar


def test_train_json_prints_only_the_summary_of_the_metrics_file(fake_fashion, tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", "--data-dir", str(fake_fashion), "--epochs", "2", "--out", str(out),
                 "--threads", "1", "--device", "cpu", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)  # stdout holds the JSON and nothing else
    rows = (out / "metrics.csv").read_text().splitlines()
    header, last = rows[0].split(","), rows[-1].split(",")
    assert summary["run_folder"] == str(out) and summary["epochs"] == len(rows) - 1 == 2
    acc = float(last[header.index("test_acc")])
    assert summary["last_epoch"]["test_acc"] == pytest.approx(acc, abs=1e-6)


@pytest.fixture(scope="module")
def photo(tmp_path_factory) -> Path:
    rng = np.random.default_rng(0)
    path = tmp_path_factory.mktemp("photo") / "photo.png"
    return save_image(rng.integers(0, 255, size=(40, 50, 3), dtype=np.uint8), path)


@pytest.mark.parametrize("command, extra", [
    ("activations", ["PHOTO", "--top", "2"]),
    ("receptive-field", ["PHOTO"]),
    ("gradcam", ["PHOTO"]),
    ("top-patches", ["--channel", "1", "--images", "FOLDER", "--top", "1"]),
])
def test_viz_commands_share_the_default_layer_and_name_it(command, extra, photo, tmp_path,
                                                          capsys):
    args = [str(photo) if a == "PHOTO" else str(photo.parent) if a == "FOLDER" else a
            for a in extra]
    expected = last_spatial_layer(get_model("smallcnn").eval(), model_info("smallcnn").input_size)
    assert main(["viz", command, "smallcnn", *args, "--out", str(tmp_path / "p.png"),
                 "--json"]) == 0
    captured = capsys.readouterr()
    data = json.loads(captured.out)
    layer = data.get("layer") or data.get("target", {}).get("layer")
    assert layer == expected
    notes = [ln for ln in captured.err.splitlines() if ln.startswith("note: layer: ")]
    assert notes == [(f"note: layer: {expected} (default: the last layer with a spatial output; "
                      f"--layer picks another, `cnnlab viz layers` lists them)")]


def test_an_explicit_layer_is_used_without_a_note(photo, tmp_path, capsys):
    assert main(["viz", "activations", "smallcnn", str(photo), "--layer", "features.0",
                 "--out", str(tmp_path / "a.png"), "--json"]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["layer"] == "features.0" and "layer:" not in captured.err


def test_trace_conv_without_options_traces_the_lecture_example(capsys):
    assert main(["trace", "conv", "--json"]) == 0
    default = json.loads(capsys.readouterr().out)
    assert main(["trace", "conv", "--example", "lecture", "--json"]) == 0
    assert default == json.loads(capsys.readouterr().out)
    assert main(["trace", "conv"]) == 0
    captured = capsys.readouterr()
    # The lecture's worked 5x5 * 3x3 example (its slide's feature map).
    assert captured.out.rstrip().endswith("4 3 4\n  2 4 3\n  2 3 4")
    assert "--example lecture" in captured.err
    assert main(["trace", "conv", "--input", "1,2;3,4"]) == 1  # half a spec stays an error


@pytest.mark.parametrize("argv", [["profile", "alexnet"], ["tables", "--table", "vgg16"]])
def test_json_flag_equals_format_json(argv, capsys):
    assert main([*argv, "--json"]) == 0
    short = json.loads(capsys.readouterr().out)
    assert main([*argv, "--format", "json"]) == 0
    assert short == json.loads(capsys.readouterr().out) and short
