"""``cnnlab robustness`` as a library call: a run or model under every challenge.

    report = evaluate_robustness("runs/demo", settings=RobustnessSettings(seed=0))
    write_report(report, "runs/demo")   # cnnlab.robustness.outputs

The model is scored with the views ``cnnlab evaluate`` uses for it (a run's saved ones, e.g.
the fast recipe's flips; the centre crop for image files, which are decoded once into memory).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from cnnlab.corruptions import corrupt
from cnnlab.data.folder import FileDataset
from cnnlab.data.memory import InMemoryDataset
from cnnlab.device import pick_device
from cnnlab.errors import CnnlabError
from cnnlab.evaluation.evaluate import load_for_evaluation, with_saved_views
from cnnlab.evaluation.predict import ViewSpec
from cnnlab.robustness.intraclass import intraclass_report
from cnnlab.robustness.measure import (
    Measurement,
    Progress,
    as_in_memory,
    corruption_seed,
    measure,
)
from cnnlab.robustness.report import Reference, RobustnessReport, errors_from_json
from cnnlab.robustness.settings import RobustnessSettings

REPORT_FILE = "robustness.json"


@dataclass
class _Scored:
    measurement: Measurement
    data: InMemoryDataset
    classes: list[str]
    views: str
    dataset: str


def _score(target: str | Path, settings: RobustnessSettings, *, weights: str | None,
           dataset: str | None, data_dir: str | None, progress: Progress | None) -> _Scored:
    model, data, meta = load_for_evaluation(target, data_dir=data_dir, limit=settings.limit,
                                            weights=weights, dataset=dataset)
    spec = with_saved_views(None, meta)
    if isinstance(data, FileDataset):
        spec = ViewSpec("center", spec.size, spec.resize)
    memory = as_in_memory(data, spec, settings.batch_size)
    device = pick_device("auto")
    measurement = measure(model.to(device), memory, spec, settings, device, progress)
    return _Scored(measurement, memory, list(meta["classes"]), str(spec.mode), data.name)


def corruption_grid(image: torch.Tensor, settings: RobustnessSettings) -> torch.Tensor:
    """One uint8 C x H x W image under each corruption at severity 0 and each severity:
    K x (S + 1) x C x H x W."""
    rows = []
    for name in settings.corruptions:
        rows.append(torch.cat([image[None]] + [
            corrupt(image[None], name, s, corruption_seed(settings.seed, name, s))
            for s in settings.severities]))
    return torch.stack(rows)


def evaluate_robustness(target: str | Path, settings: RobustnessSettings | None = None, *,
                        weights: str | None = None, dataset: str | None = None,
                        data_dir: str | None = None, reference: str | Path | None = None,
                        progress: Progress | None = None) -> RobustnessReport:
    """Measure ``target`` (a run folder, or a model name with ``weights``) on its test split
    under ``settings``' corruptions and severities; CE against ``reference`` when given."""
    settings = settings or RobustnessSettings()
    scored = _score(target, settings, weights=weights, dataset=dataset, data_dir=data_dir,
                    progress=progress)
    clean = scored.measurement.clean
    intra = intraclass_report(clean.log_probs, clean.labels, scored.classes)
    examples = {}
    for pair in intra.pairs:
        examples[f"{pair.a}->{pair.b}"] = scored.data.images[pair.examples_a_as_b]
        examples[f"{pair.b}->{pair.a}"] = scored.data.images[pair.examples_b_as_a]
    ref = None
    if reference is not None:
        ref = load_reference(reference, settings, scored, data_dir, progress)
    return RobustnessReport(str(target), scored.dataset, len(clean.labels), scored.views,
                            settings, scored.measurement.clean_error,
                            scored.measurement.errors, intra,
                            corruption_grid(scored.data.images[0], settings), examples, ref)


def _saved_reference(folder: Path, settings: RobustnessSettings,
                     scored: _Scored) -> Reference | None:
    """The reference's own robustness.json, if it measured what is needed here."""
    try:
        saved: dict[str, Any] = json.loads((folder / REPORT_FILE).read_text(encoding="utf-8"))
        errors = errors_from_json(saved["errors"])
        same = (saved["dataset"] == scored.dataset and saved["samples"] == len(
            scored.measurement.clean.labels) and saved["settings"]["seed"] == settings.seed)
        covered = all(s in errors.get(n, {}) for n in settings.corruptions
                      for s in settings.severities)
        return Reference(str(folder), float(saved["clean_error"]), errors) if (
            same and covered) else None
    except (OSError, ValueError, KeyError, TypeError):
        return None


def load_reference(reference: str | Path, settings: RobustnessSettings, scored: _Scored,
                   data_dir: str | None, progress: Progress | None) -> Reference:
    """The reference run's errors: from its robustness.json when that covers these settings,
    else measured now on the same dataset, corruptions, severities and seed."""
    folder = Path(reference)
    if not folder.is_dir():
        raise CnnlabError(f"--reference {reference}: not a run folder")
    saved = _saved_reference(folder, settings, scored)
    if saved is not None:
        return saved
    ref = _score(folder, settings, weights=None, dataset=scored.dataset, data_dir=data_dir,
                 progress=progress)
    if ref.classes != scored.classes:
        raise CnnlabError(f"--reference {reference}: its classes differ from the model's")
    return Reference(str(folder), ref.measurement.clean_error, ref.measurement.errors)
