"""An interrupted experiment picks up where it stopped, and `cnnlab experiment` itself."""

from __future__ import annotations

import json

import pytest
from experiment_checks import check_report

from cnnlab.cli import main
from cnnlab.errors import CnnlabError
from cnnlab.experiments import list_experiments, run_experiment
from cnnlab.experiments.runner import DONE
from cnnlab.fileio import run_lock


class _Stop(Exception):
    pass


def _stop_after_first(i: int) -> None:
    if i == 1:
        raise _Stop


def test_interrupted_after_the_first_model_resumes_without_retraining(tmp_path):
    out = tmp_path / "lrn"
    with pytest.raises(_Stop):
        run_experiment("lrn", "tiny", out=out, log=lambda line: None,
                       after_model=_stop_after_first)
    first, second = out / "runs" / "none-seed0", out / "runs" / "lrn-seed0"
    assert (first / DONE).is_file() and not second.exists()
    stamp = (first / "checkpoint.safetensors").stat().st_mtime_ns
    lines: list[str] = []
    run_experiment("lrn", "tiny", out=out, log=lines.append)
    assert lines[0] == "[1/2] no normalization, seed 0: finished before, skipped"
    assert lines[1].startswith("[2/2] training LRN after each ReLU, seed 0")
    assert (first / "checkpoint.safetensors").stat().st_mtime_ns == stamp
    assert (second / DONE).is_file() and (out / "report.md").is_file()
    # a model whose training finished but was not yet marked done resumes from its state
    (second / DONE).unlink()
    stamp = (second / "checkpoint.safetensors").stat().st_mtime_ns
    lines.clear()
    run_experiment("lrn", "tiny", out=out, log=lines.append)
    assert lines[1].startswith("[2/2] resuming LRN after each ReLU, seed 0")
    assert (second / "checkpoint.safetensors").stat().st_mtime_ns == stamp
    results = json.loads((out / "results.json").read_text())
    assert [m["arm"] for m in results["models"]] == ["none", "lrn"]


def test_other_settings_in_the_same_folder_are_refused(tmp_path):
    out = tmp_path / "gp"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    with pytest.raises(CnnlabError, match="not an experiment folder"):
        run_experiment("global-pool", "tiny", out=out, log=lambda line: None)
    with pytest.raises(_Stop):
        run_experiment("lrn", "tiny", out=tmp_path / "x", log=lambda line: None,
                       after_model=_stop_after_first)
    with pytest.raises(CnnlabError, match="holds lrn at scale tiny with 1 seeds"):
        run_experiment("lrn", "tiny", seeds=2, out=tmp_path / "x", log=lambda line: None)


def test_a_folder_held_by_another_writer_is_refused_before_any_training(tmp_path):
    out = tmp_path / "held"
    with (run_lock(out, "cnnlab experiment"),
          pytest.raises(CnnlabError, match=r"in use by pid \d+ \(cnnlab experiment")):
        run_experiment("lrn", "tiny", out=out, log=lambda line: None)
    assert not (out / "experiment.json").exists()
    assert sorted(p.name for p in out.iterdir()) == [".cnnlab-lock"]


def test_cli_list_and_errors(capsys):
    assert main(["experiment", "list", "--json"]) == 0
    entries = json.loads(capsys.readouterr().out)
    assert [e["name"] for e in entries] == list_experiments()
    assert len(entries) >= 9
    assert all(set(e["scales"]) == {"tiny", "quick", "paper"} and e["claim"] for e in entries)
    assert main(["experiment", "run", "no-such"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: unknown experiment 'no-such'") and err.count("\n") == 1
    assert main(["experiment", "run", "lrn", "--scale", "huge"]) == 1
    assert capsys.readouterr().err == "error: unknown scale 'huge': use tiny, quick, paper\n"


def test_cli_run_global_pool_prints_progress_and_the_verdict(tmp_path, capsys):
    out = tmp_path / "global-pool"
    assert main(["experiment", "run", "global-pool", "--scale", "tiny", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    lines = [line for line in printed.splitlines() if line.startswith("[")]
    assert lines[0].startswith("[1/2] training FC head, seed 0")
    assert lines[1].startswith("[2/2] training global average pool, seed 0")
    results = json.loads((out / "results.json").read_text())
    assert f"verdict: {results['verdict']}" in printed
    check_report("global-pool", out, results, lines)
    params = {m["arm"]: m["params"] for m in results["models"]}
    c = 2 * 4  # the trunk's output channels at the tiny width 4
    fc_head = (c * 49 * 256 + 256) + (256 * 10 + 10)
    assert params["fc"] - params["gap"] == fc_head - (c * 10 + 10)
