"""Shared checks of a tiny experiment run: the report's structure, and that every number in
results.json is the one its run folders hold."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from PIL import Image

from cnnlab.experiments import get_experiment, run_experiment
from cnnlab.experiments.base import Finding
from cnnlab.experiments.stats import VERDICTS, overall
from cnnlab.runs import load_checkpoint


def run_tiny(name: str, folder: Path) -> tuple[Path, dict, list[str]]:
    """Run ``name`` at the tiny scale into ``folder``; (folder, results.json, log lines)."""
    lines: list[str] = []
    out = run_experiment(name, "tiny", out=folder, log=lines.append)
    return out, json.loads((out / "results.json").read_text()), lines


def last_metrics(run_dir: Path) -> dict[str, str]:
    with open(run_dir / "metrics.csv", newline="") as handle:
        return list(csv.DictReader(handle))[-1]


def check_report(name: str, out: Path, results: dict, lines: list[str]) -> None:
    """Structure of report.md / results.json / figure.png, and numbers from the run folders."""
    exp = get_experiment(name)
    scale = exp.scales["tiny"]
    report = (out / "report.md").read_text()
    assert report.startswith(f"# {exp.title}\n")
    assert f"> \"{exp.claim}\"" in report and exp.source in report
    for section in ("## Setup", "## Results", "## Verdicts", "## Reproduce"):
        assert f"\n{section}\n" in report
    assert f"**Verdict at the tiny scale: {results['verdict']}.**" in report
    assert "\n|---|" in report  # the results table
    assert "![" in report and "](figure.png)" in report
    with Image.open(out / "figure.png") as figure:
        assert figure.format == "PNG" and min(figure.size) > 100
    findings = [Finding(**f) for f in results["findings"]]
    assert findings and all(f.verdict in VERDICTS for f in findings)
    assert results["verdict"] == overall(findings)
    for f in findings:
        assert f"- {f.statement} **{f.verdict}**: {f.reason}." in report
    arms = exp.arms(scale)
    assert len(results["models"]) == len(arms) * scale.seeds
    assert [line.split("]")[0] + "]" for line in lines if line.startswith("[")] == \
        [f"[{i}/{len(results['models'])}]" for i in range(1, len(results["models"]) + 1)]
    for model in results["models"]:
        check_model_numbers(out, model)


def check_model_numbers(out: Path, model: dict) -> None:
    """The entry's errors, parameters and time are those of its run folder."""
    run = out / model["run_dir"]
    metrics = last_metrics(run)
    assert model["test_error"] == pytest.approx(1 - float(metrics["test_acc"]), abs=1e-6)
    assert model["train_error"] == pytest.approx(1 - float(metrics["train_acc"]), abs=1e-6)
    assert model["seconds"] == sum(float(r["seconds"]) for r in model["epochs"])
    net, meta = load_checkpoint(run)
    assert meta["model"] == model["model"]
    assert model["params"] == sum(p.numel() for p in net.parameters())
    config = json.loads((run / "config.json").read_text())
    assert config["seed"] == model["seed"] and config["model_options"] == model["options"]
