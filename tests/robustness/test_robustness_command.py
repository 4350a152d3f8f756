"""`cnnlab robustness` end to end on a run trained here: the files, the clean row equal to
`cnnlab evaluate`, CE against a reference, and one-line errors for bad input."""

from __future__ import annotations

import json
import math
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from cnnlab.cli import main
from cnnlab.fileio import run_lock

ARGS = ["--challenges", "viewpoint,brightness", "--challenges", "erase",
        "--severities", "1,3", "--limit", "120"]


@pytest.fixture(scope="module")
def run_dir(fake_fashion, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("robust") / "run"
    assert main(["train", "--data-dir", str(fake_fashion), "--epochs", "1", "--batch-size",
                 "50", "--lr", "0.05", "--out", str(out), "--device", "cpu", "--quiet"]) == 0
    return out


@pytest.fixture(scope="module")
def report(run_dir, fake_fashion) -> dict:
    assert main(["robustness", str(run_dir), "--data-dir", str(fake_fashion), *ARGS]) == 0
    return json.loads((run_dir / "robustness.json").read_text())


def test_writes_table_plot_grid_and_json(report, run_dir):
    assert list(report["errors"]) == ["rotation", "shear", "scale", "translation",
                                      "perspective", "brightness", "erase"]
    assert all(list(by) == ["1", "3"] for by in report["errors"].values())
    assert report["samples"] == 120 and report["settings"]["seed"] == 0
    table = (run_dir / "robustness.md").read_text()
    assert "| viewpoint | rotation |" in table and "mean corruption error" in table
    for name in ("robustness-accuracy.png", "robustness-grid.png"):
        with Image.open(run_dir / name) as image:
            assert image.size[0] > 300 and image.size[1] > 200
    assert (run_dir / "robustness-confusions.png").stat().st_size > 1000
    assert report["files"] == {"table": "robustness.md", "plot": "robustness-accuracy.png",
                               "grid": "robustness-grid.png",
                               "confusions": "robustness-confusions.png"}
    errors = [e for by in report["errors"].values() for e in by.values()]
    assert all(0 <= e <= 1 for e in errors)
    mean = sum(sum(by.values()) / 2 for by in report["errors"].values()) / 7
    assert report["mean_corruption_error"] == pytest.approx(mean)
    assert report["challenge_means"]["illumination"] == pytest.approx(
        sum(report["errors"]["brightness"].values()) / 2)
    per_class = report["intraclass"]["per_class_accuracy"]
    assert len(per_class) == 10
    present = [v for v in per_class.values() if not math.isnan(v)]
    assert report["intraclass"]["spread"] == pytest.approx(max(present) - min(present))


def test_clean_row_equals_cnnlab_evaluate(report, run_dir, fake_fashion, tmp_path, capsys):
    capsys.readouterr()
    assert main(["evaluate", str(run_dir), "--data-dir", str(fake_fashion), "--limit", "120",
                 "--out", str(tmp_path), "--json"]) == 0
    evaluation = json.loads(capsys.readouterr().out)
    assert report["clean_error"] == evaluation["top1_error"]
    assert report["intraclass"]["per_class_accuracy"] == pytest.approx(
        evaluation["per_class_accuracy"], nan_ok=True)


def test_reference_to_itself_gives_ce_of_one(report, run_dir, fake_fashion, tmp_path, capsys):
    # a copy without robustness.json is measured anew; the run itself reuses its saved file
    copy = tmp_path / "copy"
    shutil.copytree(run_dir, copy)
    (copy / "robustness.json").unlink()
    for reference in (copy, run_dir):
        capsys.readouterr()
        assert main(["robustness", str(run_dir), "--data-dir", str(fake_fashion), *ARGS,
                     "--reference", str(reference), "--out", str(tmp_path / "out"),
                     "--json"]) == 0
        normalized = json.loads(capsys.readouterr().out)["normalized"]
        assert normalized["reference_errors"] == report["errors"]
        defined = [v for v in normalized["ce"].values() if v is not None]
        assert defined and all(v == pytest.approx(1.0) for v in defined)
        assert normalized["mce"] == pytest.approx(1.0)
    assert not (copy / "robustness.json").exists()  # the reference's folder is only read


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "cnnlab", *args], capture_output=True,
                          check=False, text=True, timeout=300)


@pytest.mark.parametrize("args,message", [
    (["--challenges", "weather"], "unknown challenge or corruption 'weather'"),
    (["--severities", "0-7"], "severity 6 is outside 0-5"),
    (["--severities", "-1"], "is outside 0-5"),
    (["--severities", "x"], "expected a range like 1-5"),
])
def test_bad_options_are_one_line_errors(run_dir, args, message, capsys):
    capsys.readouterr()
    assert main(["robustness", str(run_dir), *args]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: ") and message in err, err


def test_a_run_without_a_dataset_is_a_one_line_error(run_dir, tmp_path):
    broken = tmp_path / "nodata"
    shutil.copytree(run_dir, broken)
    meta = json.loads((broken / "checkpoint.json").read_text())
    meta.pop("dataset", None)
    (broken / "checkpoint.json").write_text(json.dumps(meta))
    result = run_cli("robustness", str(broken))
    assert result.returncode == 1 and result.stderr.count("\n") == 1
    assert "names no dataset" in result.stderr


def test_a_run_folder_held_by_another_writer_is_refused_before_scoring(run_dir, fake_fashion,
                                                                       capsys):
    before = (run_dir / "robustness.json").stat().st_mtime_ns
    capsys.readouterr()
    with run_lock(run_dir, "cnnlab train"):
        assert main(["robustness", str(run_dir), "--data-dir", str(fake_fashion), *ARGS]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "is in use by pid" in err and "cnnlab train" in err, err
    assert (run_dir / "robustness.json").stat().st_mtime_ns == before
