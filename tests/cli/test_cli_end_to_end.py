"""The CLI end to end (train, evaluate, predict, samples) and its one-line errors."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from cnnlab.cli import main


def run_cli(*args: str) -> subprocess.CompletedProcess:
    """The real console entry point in a subprocess: exit codes and stderr as a user sees them."""
    return subprocess.run([sys.executable, "-m", "cnnlab", *args], capture_output=True,
                          check=False, text=True, timeout=300)


@pytest.fixture(scope="module")
def run_dir(fake_fashion, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("cli") / "run"
    result = run_cli("train", "--data-dir", str(fake_fashion), "--epochs", "2",
                     "--batch-size", "32", "--lr", "0.05", "--out", str(out), "--device", "cpu")
    assert result.returncode == 0, result.stderr
    assert f"run folder: {out}" in result.stdout
    return out


def test_evaluate_json_and_figure(run_dir, fake_fashion, capsys):
    assert main(["evaluate", str(run_dir), "--data-dir", str(fake_fashion), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert 0 <= report["top1_error"] < 0.5 and report["top5_error"] <= report["top1_error"]
    assert len(report["per_class_accuracy"]) == 10 and report["samples"] == 200
    assert (run_dir / "confusion.png").stat().st_size > 1000


def test_samples_then_predict_json(run_dir, fake_fashion, tmp_path, capsys):
    assert main(["samples", str(tmp_path), "--data-dir", str(fake_fashion), "--count", "3"]) == 0
    files = sorted(tmp_path.glob("test-*.png"))
    assert len(files) == 3
    capsys.readouterr()
    assert main(["predict", str(run_dir), *map(str, files), "--json"]) == 0
    results = json.loads(capsys.readouterr().out)
    assert len(results) == 3
    for result, path in zip(results, files, strict=True):
        probs = [t["probability"] for t in result["top"]]
        assert len(probs) == 5 and probs == sorted(probs, reverse=True) and sum(probs) <= 1.0001
        true_class = path.stem.split("-", 2)[2]
        assert result["top"][0]["class"].lower().replace("/", "-").replace(" ", "-") == true_class


@pytest.mark.parametrize("mode", ["RGBA", "RGB", "I;16", "P", "1", "LA"])
def test_predict_accepts_any_mode_and_size(run_dir, tmp_path, mode, capsys):
    rng = np.random.default_rng(0)
    image = Image.fromarray(rng.integers(0, 255, (61, 45, 3), dtype=np.uint8)).convert(mode)
    path = tmp_path / f"img-{mode.replace(';', '')}.png"
    image.save(path)
    assert main(["predict", str(run_dir), str(path), "--json", "--top", "3"]) == 0
    assert len(json.loads(capsys.readouterr().out)[0]["top"]) == 3


def _one_line_error(status: int, stderr: str, needle: str) -> None:
    assert status != 0
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    assert lines[0].startswith("error:") and needle in lines[0], lines[0]
    assert "Traceback" not in stderr


def test_errors_in_a_real_process(tmp_path):
    """The console entry point itself: exit status and stderr as a shell user sees them."""
    result = run_cli("evaluate", str(tmp_path / "missing-run"))
    _one_line_error(result.returncode, result.stderr, "no such run folder")
    result = run_cli("train", "--no-such-flag")
    assert result.returncode == 2
    _one_line_error(result.returncode, result.stderr, "No such option")


def test_bad_inputs_give_one_line_errors(run_dir, fake_fashion, tmp_path, no_download, capsys):
    not_image = tmp_path / "notes.png"
    not_image.write_text("hello")
    corrupt = tmp_path / "corrupt.png"
    buffer = tmp_path / "ok.png"
    Image.new("L", (40, 40), 128).save(buffer)
    corrupt.write_bytes(buffer.read_bytes()[:60])
    bad_idx = tmp_path / "bad"
    bad_idx.mkdir()
    for name in ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
                 "t10k-labels-idx1-ubyte"):
        (bad_idx / name).write_bytes(b"\x00\x00\x08\x03garbage")
    empty = tmp_path / "empty-run"
    empty.mkdir()
    cases = [
        (("train", "--model", "nosuchnet", "--data-dir", str(fake_fashion)), "unknown model"),
        (("train", "--epochs", "0"), "--epochs must be >= 1"),
        (("train", "--batch-size", "many"), "--batch-size"),
        (("train", "--no-such-flag"), "No such option"),
        (("train", "--data-dir", str(tmp_path / "nowhere")), "Fashion-MNIST"),
        (("train", "--data-dir", str(bad_idx), "--epochs", "1"), "truncated"),
        (("evaluate", str(empty)), "no checkpoint here"),
        (("evaluate", str(tmp_path / "missing-run")), "no such run folder"),
        (("predict", str(run_dir), str(tmp_path / "missing.png")), "no such file"),
        (("predict", str(run_dir), str(not_image)), "not an image"),
        (("predict", str(run_dir), str(corrupt)), "cannot decode"),
        (("predict", str(run_dir), str(buffer), "--invert", "maybe"), "--invert"),
        (("models", "vgg17"), "unknown model"),
    ]
    for args, needle in cases:
        capsys.readouterr()
        status = main(list(args))
        _one_line_error(status, capsys.readouterr().err, needle)


def test_checkpoint_that_does_not_fit(run_dir, tmp_path, capsys):
    broken = tmp_path / "broken"
    shutil.copytree(run_dir, broken)
    meta = json.loads((broken / "checkpoint.json").read_text())
    meta["model_args"]["num_classes"] = 7
    (broken / "checkpoint.json").write_text(json.dumps(meta))
    checks = [("weights do not fit smallcnn", None),
              ("cannot read weights", lambda: (broken / "checkpoint.safetensors").write_bytes(
                  b"not safetensors")),
              ("corrupt checkpoint metadata", lambda: (broken / "checkpoint.json").write_text(
                  "{not json"))]
    for needle, damage in checks:
        if damage is not None:
            damage()
        capsys.readouterr()
        _one_line_error(main(["evaluate", str(broken)]), capsys.readouterr().err, needle)
