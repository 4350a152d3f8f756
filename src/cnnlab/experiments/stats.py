"""Means, seed spreads and the verdict rule every experiment uses.

The rule: an effect counts only when the difference of two arms' means is larger than the
larger of their seed ranges (max - min over seeds) and than the measurement's resolution. A
smaller effect is "not shown at this scale", never "reproduced"; one seed has no range, so
nothing is shown with one seed.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass

from cnnlab.experiments.base import Finding

REPRODUCED, NOT_REPRODUCED = "reproduced", "not reproduced at this scale"
NOT_SHOWN, MIXED = "not shown at this scale", "mixed"
VERDICTS = (REPRODUCED, NOT_REPRODUCED, NOT_SHOWN, MIXED)


@dataclass(frozen=True)
class Spread:
    """Values over seeds: mean, sample standard deviation (0 for one value), min, max."""

    values: tuple[float, ...]

    @property
    def mean(self) -> float:
        """The mean over seeds."""
        return statistics.fmean(self.values)

    @property
    def sd(self) -> float:
        """The sample standard deviation over seeds (0 for one seed)."""
        return statistics.stdev(self.values) if len(self.values) > 1 else 0.0

    @property
    def range(self) -> float:
        """max - min over seeds: the spread the verdict rule compares an effect with."""
        return max(self.values) - min(self.values)

    def to_dict(self) -> dict:
        """values, mean, sd, min and max for results.json."""
        return {"values": list(self.values), "mean": self.mean, "sd": self.sd,
                "min": min(self.values), "max": max(self.values)}

    def text(self, scale: float = 100.0, digits: int = 2, unit: str = "") -> str:
        """"12.34 ± 0.56 (11.9-12.7)" with values times ``scale`` (percent by default)."""
        if len(self.values) == 1:
            return f"{self.values[0] * scale:.{digits}f}{unit} (one seed)"
        lo, hi = min(self.values) * scale, max(self.values) * scale
        return (f"{self.mean * scale:.{digits}f} ± {self.sd * scale:.{digits}f}{unit} "
                f"({lo:.{digits}f}-{hi:.{digits}f})")


def spread(values) -> Spread:
    """The ``Spread`` of any iterable of numbers, as floats."""
    return Spread(tuple(float(v) for v in values))


def lower(statement: str, low: Spread, high: Spread, what: str, scale: float = 100.0,
          unit: str = " points", resolution: float = 0.0) -> Finding:
    """Finding for the claim "``low`` is lower than ``high``" by the rule of the module doc.

    ``resolution``: the measurement's step (e.g. one epoch of steps); an effect must also
    exceed it, since seeds that land in the same step show no range.
    """
    effect, noise = high.mean - low.mean, max(low.range, high.range, resolution)
    measured = (f"{what}: difference of means {effect * scale:+.2f}{unit}, larger seed range "
                f"{max(low.range, high.range) * scale:.2f}{unit}")
    if resolution:
        measured += f", resolution {resolution * scale:.2f}{unit}"
    if min(len(low.values), len(high.values)) < 2:
        return Finding(statement, NOT_SHOWN, f"{measured}; one seed gives no spread to compare "
                                             "the effect with")
    if effect > noise:
        return Finding(statement, REPRODUCED, f"{measured}: the effect exceeds the spread")
    if -effect > noise:
        return Finding(statement, NOT_REPRODUCED,
                       f"{measured}: the opposite effect exceeds the spread")
    return Finding(statement, NOT_SHOWN, f"{measured}: the effect is within the seed spread")


def not_lower(statement: str, candidate: Spread, reference: Spread, what: str,
              scale: float = 100.0, unit: str = " points") -> Finding:
    """Finding for "``candidate`` does not improve on ``reference``" (lower is better).

    Reproduced unless the candidate is lower by more than the spread.
    """
    found = lower(statement, candidate, reference, what, scale, unit)
    if found.verdict == REPRODUCED:
        return Finding(statement, NOT_REPRODUCED, found.reason.replace(
            "the effect exceeds the spread", "it does improve, by more than the spread"))
    if min(len(candidate.values), len(reference.values)) < 2:
        return found
    return Finding(statement, REPRODUCED, found.reason.replace(
        ": the effect is within the seed spread", ": no improvement beyond the seed spread")
        .replace("the opposite effect exceeds the spread", "it is worse, beyond the spread"))


def exact(statement: str, ours: float, expected: float, what: str) -> Finding:
    """A counted (deterministic) number against its formula: equal or not."""
    if ours == expected:
        return Finding(statement, REPRODUCED, f"{what}: {ours:,.0f} = {expected:,.0f}")
    return Finding(statement, NOT_REPRODUCED, f"{what}: {ours:,.0f} != {expected:,.0f}")


def overall(findings: list[Finding]) -> str:
    """One verdict: all findings agree -> theirs, else "mixed"."""
    verdicts = {f.verdict for f in findings}
    return verdicts.pop() if len(verdicts) == 1 else MIXED
