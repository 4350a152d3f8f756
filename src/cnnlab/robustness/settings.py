"""What a robustness measurement covers: corruptions, severities, seed, images."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field

from cnnlab.corruptions import check_severity, list_corruptions, resolve_names
from cnnlab.errors import CnnlabError

_RANGE = re.compile(r"^\s*(-?\d+)\s*-\s*(-?\d+)\s*$")


@dataclass
class RobustnessSettings:
    """Corruption names (table order), severities (ascending, 1..5; the clean images are
    always scored as severity 0), the seed of every corruption's draws, the images scored."""

    corruptions: list[str] = field(default_factory=list_corruptions)
    severities: list[int] = field(default_factory=lambda: [1, 2, 3, 4, 5])
    seed: int = 0
    limit: int | None = None  # the first N test images (None: all)
    batch_size: int = 500

    def to_dict(self) -> dict:
        """The settings as JSON (saved in robustness.json)."""
        return asdict(self)


def parse_severities(text: str) -> list[int]:
    """"1-5" -> [1, 2, 3, 4, 5]; "1,3,5" -> [1, 3, 5]; 0 (the clean images) is dropped, as it
    is always scored; anything outside 0-5 is a CnnlabError."""
    match = _RANGE.match(text)
    try:
        values = (list(range(int(match.group(1)), int(match.group(2)) + 1)) if match
                  else [int(v) for v in text.split(",") if v.strip()])
    except ValueError:
        raise CnnlabError(f"--severities {text!r}: expected a range like 1-5 or a list "
                          f"like 1,3,5") from None
    if match and int(match.group(1)) > int(match.group(2)):
        raise CnnlabError(f"--severities {text!r}: the range is empty")
    for value in values:
        check_severity(value)
    picked = sorted({v for v in values if v > 0})
    if not picked:
        raise CnnlabError(f"--severities {text!r}: name at least one severity from 1 to 5")
    return picked


def parse_challenges(names: list[str] | None) -> list[str]:
    """Challenge and/or corruption names (each item may be comma-separated) -> corruptions;
    None or empty: all of them. The intraclass report comes with every measurement."""
    items = [part.strip() for name in names or [] for part in name.split(",") if part.strip()]
    corruptions = resolve_names(items) if items else list_corruptions()
    if not corruptions:
        raise CnnlabError("--challenges intraclass names no corruption: the intraclass "
                          "report is part of every measurement; add a challenge such as "
                          "viewpoint")
    return corruptions
