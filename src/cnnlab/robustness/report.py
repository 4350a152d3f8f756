"""A robustness measurement as numbers: the table, the summaries and robustness.json."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch

from cnnlab.corruptions import CHALLENGE_OF
from cnnlab.robustness.intraclass import IntraclassReport
from cnnlab.robustness.scores import (
    Errors,
    challenge_means,
    corruption_errors,
    corruption_means,
    mean_corruption_error,
    mean_of,
    relative_corruption_errors,
)
from cnnlab.robustness.settings import RobustnessSettings


@dataclass
class Reference:
    """The run CE is normalized to, scored on the same corruptions, severities and seed."""

    name: str
    clean_error: float
    errors: Errors


@dataclass
class RobustnessReport:
    """Errors are top-1 error fractions. ``grid`` is K x (S + 1) x C x H x W uint8: one test
    image under each of the K corruptions at severity 0 (clean) and each measured severity;
    ``examples`` maps "a->b" to the uint8 test images of class a predicted as b."""

    target: str
    dataset: str
    samples: int
    views: str
    settings: RobustnessSettings
    clean_error: float
    errors: Errors
    intraclass: IntraclassReport
    grid: torch.Tensor
    examples: dict[str, torch.Tensor] = field(default_factory=dict)
    reference: Reference | None = None

    @property
    def challenges(self) -> dict[str, float]:
        """Mean error per challenge (of its corruptions' means over severities)."""
        return challenge_means(self.errors, CHALLENGE_OF)

    @property
    def mean_error(self) -> float:
        """The unnormalized mean corruption error."""
        return mean_corruption_error(self.errors)

    def normalized(self) -> dict | None:
        """CE, relative CE and their means against the reference (None without one)."""
        ref = self.reference
        if ref is None:
            return None
        ce = corruption_errors(self.errors, ref.errors)
        relative = relative_corruption_errors(self.errors, self.clean_error, ref.errors,
                                              ref.clean_error)
        return {"reference": ref.name, "reference_clean_error": ref.clean_error,
                "reference_errors": _keyed(ref.errors), "ce": ce, "relative_ce": relative,
                "mce": mean_of(ce), "relative_mce": mean_of(relative)}

    def to_dict(self) -> dict:
        """Every number of the report, as robustness.json holds it."""
        return {"target": self.target, "dataset": self.dataset, "samples": self.samples,
                "views": self.views, "settings": self.settings.to_dict(),
                "clean_error": self.clean_error, "clean_accuracy": 1 - self.clean_error,
                "errors": _keyed(self.errors),
                "corruption_means": corruption_means(self.errors),
                "challenge_of": {name: CHALLENGE_OF[name] for name in self.errors},
                "challenge_means": self.challenges, "mean_corruption_error": self.mean_error,
                "normalized": self.normalized(), "intraclass": self.intraclass.to_dict()}


def _keyed(errors: Errors) -> dict[str, dict[str, float]]:
    """JSON keys are strings: severities as "1".."5"."""
    return {name: {str(s): e for s, e in by.items()} for name, by in errors.items()}


def errors_from_json(data: dict[str, dict[str, float]]) -> Errors:
    """The inverse of the JSON form of an error table."""
    return {name: {int(s): float(e) for s, e in by.items()} for name, by in data.items()}


def table_rows(report: RobustnessReport) -> tuple[list[str], list[list[str]]]:
    """(header, rows) of the table: challenge, corruption, error per severity, mean, and CE /
    relative CE with a reference; a row per challenge mean and one overall, errors in %."""
    severities = report.settings.severities
    norm = report.normalized()
    header = ["challenge", "corruption", *[f"s{s}" for s in severities], "mean"]
    if norm:
        header += ["CE", "rel. CE"]
    means = corruption_means(report.errors)
    rows = [["clean", "-", *["" for _ in severities], _pct(report.clean_error)]
            + (["", ""] if norm else [])]
    for challenge, challenge_mean in report.challenges.items():
        names = [n for n in report.errors if CHALLENGE_OF[n] == challenge]
        for name in names:
            row = [challenge, name, *[_pct(report.errors[name][s]) for s in severities],
                   _pct(means[name])]
            if norm:
                row += [_ratio(norm["ce"][name]), _ratio(norm["relative_ce"][name])]
            rows.append(row)
        rows.append([challenge, "**mean**", *["" for _ in severities], _pct(challenge_mean)]
                    + (["", ""] if norm else []))
    rows.append(["**all**", "**mean corruption error**", *["" for _ in severities],
                 _pct(report.mean_error)]
                + ([_ratio(norm["mce"]), _ratio(norm["relative_mce"])] if norm else []))
    return header, rows


def _pct(fraction: float) -> str:
    return f"{100 * fraction:.2f}"


def _ratio(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.1f}"


def markdown(report: RobustnessReport) -> str:
    """The table (top-1 error in %, CE in % of the reference's) and the intraclass summary."""
    header, rows = table_rows(report)
    lines = [f"Robustness of {report.target} on {report.dataset} ({report.samples:,} test "
             f"images, {report.views} view, seed {report.settings.seed}): top-1 error in %"
             + (f", CE and relative CE in % of {report.reference.name}'s"
                if report.reference else ""), "",
             "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    intra = report.intraclass
    scored = [v for v in intra.per_class if not math.isnan(v)]  # NaN: a class with no image
    lines += ["", (f"Intraclass variation: per-class accuracy from "
                   f"{100 * min(scored):.1f}% to {100 * max(scored):.1f}% (spread "
                   f"{100 * intra.spread:.1f} points, std {100 * intra.std:.1f})."), ""]
    for pair in intra.pairs:
        lines.append(f"- {pair.a} taken for {pair.b}: {pair.a_as_b}; {pair.b} taken for "
                     f"{pair.a}: {pair.b_as_a}")
    return "\n".join(lines) + "\n"
