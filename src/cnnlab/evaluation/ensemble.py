"""Ensembles of trained runs: average their softmax outputs, uniformly or with tuned weights.

Weights are tuned on a validation split and the result is reported on test images the tuning
never saw. Validation is the training images the runs held out (``holdout`` in their config,
the same for all), or else a fixed half of the test split, reporting on the other half.
The table follows the ILSVRC result listings: entry, description, errors as fractions.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from cnnlab.errors import CnnlabError
from cnnlab.evaluation.evaluate import run_predictions
from cnnlab.evaluation.metrics import topk_accuracy
from cnnlab.evaluation.predict import ViewSpec


@dataclass
class Entry:
    """One row of the table: errors are fractions on the reported split."""

    name: str
    description: str
    top1_error: float
    top5_error: float


@dataclass
class EnsembleReport:
    """An ensemble's table: one entry per member, then the ensemble; errors are fractions.

    ``weights`` are the members' weights, tuned on ``validation``; ``test_samples`` images.
    """
    entries: list[Entry]
    weights: list[float]
    validation: str  # where the weights were tuned
    test_samples: int

    def to_dict(self) -> dict:
        """The report as JSON (``cnnlab ensemble --json``); errors stay fractions."""
        return {"entries": [vars(e) for e in self.entries], "weights": self.weights,
                "validation": self.validation, "test_samples": self.test_samples}


def average_probs(log_probs: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """log_probs M x N x K of M models, weights M (summing to 1) -> N x K probabilities."""
    return torch.einsum("m,mnk->nk", weights.double(), log_probs.double().exp())


def tune_weights(log_probs: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Simplex weights M minimizing the validation NLL of the weighted average of softmaxes.

    The weights are a softmax of free parameters, optimized by SciPy's L-BFGS-B.
    """
    from scipy.optimize import minimize

    probs = log_probs.double().exp().numpy()[:, np.arange(len(labels)), labels.numpy()]  # M x N

    def loss(theta: np.ndarray) -> float:
        w = np.exp(theta - theta.max())
        w /= w.sum()
        return float(-np.log(np.clip(w @ probs, 1e-300, None)).mean())

    result = minimize(loss, np.zeros(len(probs)), method="L-BFGS-B")
    w = np.exp(result.x - result.x.max())
    return torch.from_numpy(w / w.sum())


def _errors(probs: torch.Tensor, labels: torch.Tensor) -> tuple[float, float]:
    top1, top5 = topk_accuracy(probs, labels, ks=(1, 5))
    return 1 - top1, 1 - top5


def ensemble_runs(run_dirs: list[str | Path], weights: str = "uniform", *,
                  data_dir: str | Path | None = None, spec: ViewSpec | None = None,
                  limit: int | None = None, workers: int = 0) -> EnsembleReport:
    """Score each run and their average on the test images the tuning did not use."""
    if len(run_dirs) < 2:
        raise CnnlabError("an ensemble needs at least two run folders")
    if weights not in ("uniform", "tuned"):
        raise CnnlabError(f"unknown weighting {weights!r}: use uniform or tuned")
    runs = [run_predictions(r, data_dir=data_dir, spec=spec, limit=limit, workers=workers)
            for r in run_dirs]
    labels = runs[0][0].labels
    if any(not torch.equal(p.labels, labels) or m["classes"] != runs[0][1]["classes"]
           for p, m in runs):
        raise CnnlabError("the runs were not trained on the same dataset and classes")
    test_lp = torch.stack([p.log_probs for p, _ in runs])
    holdouts = {m.get("holdout") or 0 for _, m in runs}
    validation, test_idx = "none (uniform weights)", torch.arange(len(labels))
    w = torch.full((len(runs),), 1 / len(runs), dtype=torch.float64)
    if weights == "tuned":
        if len(holdouts) == 1 and holdouts != {0}:
            val = [run_predictions(r, "holdout", data_dir=data_dir, spec=spec, workers=workers)[0]
                   for r in run_dirs]
            w = tune_weights(torch.stack([p.log_probs for p in val]), val[0].labels)
            validation = f"{holdouts.pop()} held-out training images"
        else:
            order = torch.randperm(len(labels), generator=torch.Generator().manual_seed(7))
            val_idx, test_idx = order[:len(labels) // 2].sort().values, \
                order[len(labels) // 2:].sort().values
            w = tune_weights(test_lp[:, val_idx], labels[val_idx])
            validation = f"half of the test split ({len(val_idx)} images), reported on the other"
    entries = [Entry(Path(r).name, f"{m['model']} ({m.get('recipe', 'run')})",
                     *_errors(lp[test_idx], labels[test_idx]))
               for r, (_, m), lp in zip(run_dirs, runs, test_lp, strict=True)]
    label = "Averaging" if weights == "uniform" else "Weighted average of"
    shown = ", ".join(f"{v:.3f}" for v in w.tolist())
    entries.append(Entry("ensemble", f"{label} {len(runs)} models (weights {shown})",
                         *_errors(average_probs(test_lp[:, test_idx], w), labels[test_idx])))
    entries.sort(key=lambda e: (e.top5_error, e.top1_error))
    return EnsembleReport(entries, w.tolist(), validation, len(test_idx))

