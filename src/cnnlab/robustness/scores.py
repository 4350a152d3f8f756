"""Corruption errors summarized as the field does (Hendrycks & Dietterich 2019).

Hendrycks & Dietterich, "Benchmarking Neural Network Robustness to Common Corruptions and
Perturbations", ICLR 2019, section 3: for a model f, corruption c and severity s with top-1
error E(f, c, s),

    CE(f, c)          = sum_s E(f, c, s) / sum_s E(ref, c, s)
    relative CE(f, c) = sum_s (E(f, c, s) - E_clean(f)) / sum_s (E(ref, c, s) - E_clean(ref))

and mCE / relative mCE are their means over corruptions. The paper's reference is AlexNet on
ImageNet; here it is whatever run ``--reference`` names, scored on the same corruptions,
severities and seed. Without a reference, the unnormalized mean error over corruptions and
severities is reported (what "mean corruption error" means in the tables below).
"""

from __future__ import annotations

from statistics import fmean

Errors = dict[str, dict[int, float]]  # corruption -> severity -> top-1 error (fraction)


def corruption_means(errors: Errors) -> dict[str, float]:
    """Mean error over severities, per corruption."""
    return {name: fmean(by_severity.values()) for name, by_severity in errors.items()}


def challenge_means(errors: Errors, challenge_of: dict[str, str]) -> dict[str, float]:
    """Mean over a challenge's corruptions of their mean error over severities."""
    means = corruption_means(errors)
    groups: dict[str, list[float]] = {}
    for name, value in means.items():
        groups.setdefault(challenge_of[name], []).append(value)
    return {challenge: fmean(values) for challenge, values in groups.items()}


def mean_corruption_error(errors: Errors) -> float:
    """The unnormalized mean error over every corruption and severity (equal weight per
    corruption)."""
    return fmean(corruption_means(errors).values())


def _ratio(top: float, bottom: float) -> float | None:
    return top / bottom if bottom > 0 else None


def corruption_errors(errors: Errors, reference: Errors) -> dict[str, float | None]:
    """CE per corruption against ``reference`` (None where the reference made no error)."""
    return {name: _ratio(sum(by.values()), sum(reference[name][s] for s in by))
            for name, by in errors.items()}


def relative_corruption_errors(errors: Errors, clean: float, reference: Errors,
                               reference_clean: float) -> dict[str, float | None]:
    """Relative CE per corruption (None where the reference lost nothing to the corruption)."""
    return {name: _ratio(sum(e - clean for e in by.values()),
                         sum(reference[name][s] - reference_clean for s in by))
            for name, by in errors.items()}


def mean_of(values: dict[str, float | None]) -> float | None:
    """Mean of the defined values (None when none is)."""
    defined = [v for v in values.values() if v is not None]
    return fmean(defined) if defined else None
