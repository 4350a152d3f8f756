"""The measured numbers of an arm over its seeds, and the standard results table."""

from __future__ import annotations

from typing import Any

from cnnlab.experiments.base import Context
from cnnlab.experiments.stats import Spread, spread

COLUMNS = ["arm", "model", "params", "train error (%)", "test error (%)", "train s/model"]


def arm_numbers(context: Context, key: str) -> dict[str, Spread]:
    """Spreads over seeds: train and test error (fractions), their gap, training seconds."""
    runs = context.arm_runs(key)
    return {"train_error": spread(t.train_error for t in runs),
            "test_error": spread(t.test_error for t in runs),
            "gap": spread(t.test_error - t.train_error for t in runs),
            "seconds": spread(t.seconds for t in runs),
            "cpu_seconds": spread(t.cpu_seconds for t in runs)}


def standard_table(context: Context, keys: list[str]) -> tuple[list[str], list[list[str]]]:
    """One row per arm: label, model, parameters, errors and seconds with their spread."""
    rows = []
    for key in keys:
        runs, n = context.arm_runs(key), arm_numbers(context, key)
        rows.append([runs[0].arm.label, f"`{runs[0].arm.model}`", f"{runs[0].params:,}",
                     n["train_error"].text(), n["test_error"].text(),
                     n["seconds"].text(scale=1, digits=1)])
    return list(COLUMNS), rows


def gap_table(context: Context, keys: list[str]) -> tuple[list[str], list[list[str]]]:
    """The standard table with one more column: the train-test gap (points) with its spread."""
    columns, rows = standard_table(context, keys)
    for row, key in zip(rows, keys, strict=True):
        row.append(arm_numbers(context, key)["gap"].text())
    return [*columns, "test - train (points)"], rows


def numbers_dict(context: Context, keys: list[str]) -> dict[str, Any]:
    """The arms' spreads as plain dicts, for results.json."""
    return {key: {name: s.to_dict() for name, s in arm_numbers(context, key).items()}
            | {"params": context.arm_runs(key)[0].params} for key in keys}
