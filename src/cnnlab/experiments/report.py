"""The report folder of an experiment: report.md, results.json and the figure.

report.md reads like airbench's header: the claim, the setup (data, schedule, machine, seeds,
time), the measured table with the spread over seeds, the figure, and the verdicts with the
numbers they follow from.
"""

from __future__ import annotations

import json
import os
import platform
from pathlib import Path
from typing import Any

import torch

from cnnlab.experiments.base import Analysis, Context
from cnnlab.experiments.stats import overall
from cnnlab.fileio import write_json, write_text

FIGURE = "figure.png"
RULE = ("An effect counts only when the difference of the two means exceeds the larger seed "
        "range (max - min over seeds) of the two arms, and the measurement's resolution where "
        "it has one; a smaller one is \"not shown at this scale\". Counted numbers "
        "(parameters, MACs, receptive fields) are exact.")
_SETUP_KEYS = ("dataset", "train_subset", "test_subset", "holdout", "epochs", "batch_size",
               "optimizer", "lr", "schedule", "weight_decay", "in_memory")


# The CPU features torch's CPU kernels dispatch on: what makes two "AMD EPYC"s differ in speed.
_SIMD_FLAGS = ("sse4_2", "avx", "avx2", "fma", "f16c", "avx512f", "avx512_bf16", "avx512_vnni",
               "amx_bf16", "amx_tile")


def machine() -> dict[str, Any]:
    """CPU model and SIMD flags (as lscpu shows them), logical cores, OS, Python and torch."""
    cpu, flags = platform.processor() or "unknown CPU", []
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        fields = [line.split(":", 1) for line in cpuinfo.read_text().splitlines() if ":" in line]
        names = [value.strip() for key, value in fields if key.strip() == "model name"]
        cpu = names[0] if names else cpu
        present = next((value.split() for key, value in fields if key.strip() == "flags"), [])
        flags = [flag for flag in _SIMD_FLAGS if flag in present]
    return {"cpu": cpu, "cpu_flags": " ".join(flags), "logical_cores": os.cpu_count(),
            "os": platform.platform(),
            "python": platform.python_version(), "torch": torch.__version__,
            "cuda": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None}


def write_report(context: Context, analysis: Analysis, wall_seconds: float) -> Path:
    """Write report.md, results.json and figure.png into the experiment folder."""
    folder, exp = context.folder, context.experiment
    if analysis.figure is not None:
        analysis.figure(folder / FIGURE)
    verdict = overall(analysis.findings)
    info = machine()
    config = {k: v for k, v in context.scale.train.items() if k in _SETUP_KEYS}
    device = {t.run_dir.name: _device(t.run_dir) for t in context.trained[:1]}
    results = {
        "experiment": exp.name, "title": exp.title, "claim": exp.claim, "lecture": exp.lecture,
        "source": exp.source, "scale": context.scale_name, "seeds": _seeds(context),
        "setup": config, "machine": info, "device": next(iter(device.values()), None),
        "wall_seconds": wall_seconds,
        "train_seconds": sum(t.seconds for t in context.trained),
        "train_cpu_seconds": sum(t.cpu_seconds for t in context.trained),
        "verdict": verdict, "findings": [vars(f) for f in analysis.findings],
        "numbers": analysis.numbers,
        "models": [_model_entry(t, folder) for t in context.trained],
    }
    write_json(folder / "results.json", results)
    write_text(folder / "report.md", _markdown(context, analysis, results))
    return folder


def _device(run_dir: Path) -> str | None:
    config = json.loads((run_dir / "config.json").read_text(encoding="utf-8"))
    return config.get("device_resolved")


def _seeds(context: Context) -> int:
    return len({t.seed for t in context.trained})


def _model_entry(t, folder: Path) -> dict[str, Any]:
    return {"arm": t.arm.key, "label": t.arm.label, "seed": t.seed, "model": t.arm.model,
            "options": t.arm.options, "train_overrides": t.arm.train,
            "run_dir": str(t.run_dir.relative_to(folder)), "params": t.params,
            "seconds": t.seconds, "cpu_seconds": t.cpu_seconds,
            "steps_per_epoch": t.steps_per_epoch, "train_error": t.train_error,
            "test_error": t.test_error, "epochs": t.rows}


def _markdown(context: Context, analysis: Analysis, results: dict[str, Any]) -> str:
    exp = context.experiment
    lines = [f"# {exp.title}", "",
             f"> \"{exp.claim}\" (the lecture, {exp.lecture})", "",
             f"Source: {exp.source}.", "",
             f"**Verdict at the {context.scale_name} scale: {results['verdict']}.**", "",
             "## Setup", ""]
    lines += _setup_lines(context, results)
    lines += ["", "## Results", "", _table(analysis.columns, analysis.rows), ""]
    if analysis.figure is not None:
        lines += [f"![{analysis.figure_caption}]({FIGURE})", "", f"*{analysis.figure_caption}*",
                  ""]
    lines += ["## Verdicts", ""]
    lines += [f"- {f.statement} **{f.verdict}**: {f.reason}." for f in analysis.findings]
    lines += ["", RULE, ""]
    if analysis.notes or exp.paper_setup:
        lines += ["## Notes", ""]
        lines += [f"- The paper: {exp.paper_setup}"] if exp.paper_setup else []
        lines += [f"- {note}" for note in analysis.notes]
        lines += [""]
    seeds = results["seeds"]
    lines += ["## Reproduce", "", "```",
              f"cnnlab experiment run {exp.name} --scale {context.scale_name} --seeds {seeds}",
              "```", "", ("Every model's run folder is under `runs/` (`cnnlab evaluate "
              "runs/<name>` scores it again); `results.json` has every number above."), ""]
    return "\n".join(lines)


def _setup_lines(context: Context, results: dict[str, Any]) -> list[str]:
    setup = ", ".join(f"{k} {v}" for k, v in results["setup"].items())
    arms = {t.arm.key: t.arm for t in context.trained}
    info = results["machine"]
    lines = [f"- Scale `{context.scale_name}`: {setup}."]
    if context.scale.data == "synthetic":
        lines.append("- Data: synthetic Fashion-MNIST-like images (`data.synthetic`), written "
                     "into `data/`; the numbers test the plumbing, not the claim.")
    lines += [f"- `{a.key}`: {a.label} = `{a.model}` {_options(a)}" for a in arms.values()]
    lines += [
        f"- Seeds: {results['seeds']} per arm ({len(context.trained)} models).",
        (f"- Machine: {info['cpu']} ({info.get('cpu_flags') or 'flags unknown'}), "
         f"{info['logical_cores']} logical cores, "
        f"device {results['device']}, torch {info['torch']}, Python {info['python']}."),
        (f"- Time: {results['wall_seconds'] / 60:.1f} min wall clock for this invocation "
        f"(models finished before are not retrained); training {results['train_seconds']:.0f} s "
        f"wall, {results['train_cpu_seconds']:.0f} s CPU over all models."),
        f"- Expected: {context.scale.duration}.",
    ]
    return lines


def _options(arm) -> str:
    parts = [f"{k}={v}" for k, v in {**arm.options, **arm.train}.items()]
    return f"({', '.join(parts)})" if parts else "(defaults)"


def _table(columns: list[str], rows: list[list[str]]) -> str:
    head = "| " + " | ".join(columns) + " |"
    rule = "|" + "|".join("---" for _ in columns) + "|"
    return "\n".join([head, rule, *("| " + " | ".join(row) + " |" for row in rows)])
