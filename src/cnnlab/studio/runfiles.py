"""What a run folder holds, read for the Runs page: its config, its per-epoch metrics, its
checkpoint's summary and the outputs of ``cnnlab evaluate`` / ``cnnlab ensemble`` saved there.

Only files that cnnlab writes are read, by fixed names, from a folder that
``cnnlab.studio.rundirs.resolve_run`` has checked. Every one of them is written by a rename
(``cnnlab.fileio``), so a run that is still training is read between two whole versions, never
half of one. A file that does not parse is reported by name, relative to the run, never as a
path of the server's disk.
"""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path
from typing import Any

from cnnlab.fileio import lock_holder
from cnnlab.studio.http import ApiError

CONFIG, METRICS, CHECKPOINT = "config.json", "metrics.csv", "checkpoint.json"
EVALUATION = "evaluation.json"  # `cnnlab evaluate` (cnnlab.cli.evaluate) writes it here
ENSEMBLE = "ensemble.json"  # `cnnlab ensemble --out RUN` (cnnlab.cli.ensemble)
_MAX_BYTES = 32 * 1024 * 1024  # an ImageNet run's evaluation.json (1000 x 1000 counts) fits


def read_json_file(folder: Path, name: str) -> dict[str, Any] | None:
    """``folder/name`` as a JSON object, None when absent; a 422 naming the file when it is
    not one."""
    path = folder / name
    if not path.is_file():
        return None
    if path.stat().st_size > _MAX_BYTES:
        raise ApiError(422, f"run {folder.name!r}: {name} is larger than "
                            f"{_MAX_BYTES // 2**20} MiB")
    try:
        data = json.loads(path.read_text(encoding="utf-8"), parse_constant=_nan)
    except (OSError, UnicodeDecodeError, ValueError) as err:
        raise ApiError(422, f"run {folder.name!r}: {name} is not valid JSON "
                            f"({str(err).splitlines()[0][:100]})") from None
    if not isinstance(data, dict):
        raise ApiError(422, f"run {folder.name!r}: {name} holds {type(data).__name__}, "
                            f"not a JSON object")
    return _finite(data)


def _nan(name: str) -> None:
    return None  # NaN / Infinity in a file become null: the page's JSON has no such numbers


def _finite(value: Any) -> Any:
    """``value`` with NaN and infinities as None (JSON cannot carry them to the page)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value


def _number(text: str) -> int | float | str | None:
    if text == "":
        return None
    try:
        value = float(text)
    except ValueError:
        return text
    if not math.isfinite(value):
        return None
    return int(value) if value.is_integer() and "." not in text and "e" not in text else value


def read_metrics(folder: Path) -> list[dict[str, Any]]:
    """metrics.csv's rows (the trainer's ``runlog.metrics_csv``), numbers as numbers and empty
    cells as None; [] before the first epoch has ended."""
    path = folder / METRICS
    if not path.is_file():
        return []
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            return [{key: _number(value or "") for key, value in row.items() if key}
                    for row in csv.DictReader(handle)]
    except (OSError, UnicodeDecodeError, csv.Error) as err:
        raise ApiError(422, f"run {folder.name!r}: {METRICS} cannot be read "
                            f"({str(err).splitlines()[0][:100]})") from None


def training_now(folder: Path) -> bool:
    """True while a process holds the run folder's writer lock (``cnnlab train`` holds it for
    the whole run)."""
    return lock_holder(folder) is not None


def summary(run_id: str, folder: Path) -> dict[str, Any]:
    """The runs list's row: model, dataset, recipe, epochs done of planned, the last scores."""
    return _summary(run_id, folder, read_json_file(folder, CONFIG),
                    read_json_file(folder, CHECKPOINT), read_metrics(folder))


def _summary(run_id: str, folder: Path, config: dict[str, Any] | None,
             checkpoint: dict[str, Any] | None, rows: list[dict[str, Any]]) -> dict[str, Any]:
    config, checkpoint = config or {}, checkpoint or {}
    scored = [row for row in rows if row.get("test_acc") is not None]
    return {"id": run_id, "model": config.get("model", checkpoint.get("model")),
            "dataset": config.get("dataset", checkpoint.get("dataset")),
            "recipe": config.get("recipe", checkpoint.get("recipe")),
            "epochs": config.get("epochs"), "epochs_done": len(rows),
            "test_acc": scored[-1]["test_acc"] if scored else None,
            "training": training_now(folder), "has_checkpoint": bool(checkpoint),
            "modified": max((p.stat().st_mtime for p in folder.iterdir()), default=0.0)}


def details(run_id: str, folder: Path) -> dict[str, Any]:
    """Everything the Runs page shows of one run without scoring it: the files as they are,
    each read once."""
    config, checkpoint = read_json_file(folder, CONFIG), read_json_file(folder, CHECKPOINT)
    metrics = read_metrics(folder)
    return {**_summary(run_id, folder, config, checkpoint, metrics), "config": config,
            "checkpoint": checkpoint, "metrics": metrics,
            "evaluation": read_json_file(folder, EVALUATION),
            "ensemble": read_json_file(folder, ENSEMBLE)}
