"""What an experiment is: its claim, the models it trains at each scale, and how it is judged.

An ``Experiment`` names the lecture's claim (quoted) and the paper it comes from, lists its
``Arm``s (one model variant each: a registry name with builder options and training overrides)
and a ``Scale`` per size (tiny, quick, paper: data, schedule, seeds). The runner trains every
arm once per seed through the one trainer; ``analyze`` turns the finished runs into an
``Analysis``: a table, findings with verdicts, the numbers for results.json and a figure.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SCALES = ("tiny", "quick", "paper")


@dataclass(frozen=True)
class Arm:
    """One model variant: ``key`` names its run folders, ``label`` its table rows."""

    key: str
    label: str
    model: str
    options: dict[str, Any] = field(default_factory=dict)  # builder options
    train: dict[str, Any] = field(default_factory=dict)  # TrainConfig overrides of this arm


@dataclass(frozen=True)
class Scale:
    """How big an experiment runs: TrainConfig values, seeds, and what that costs here.

    ``data`` is "synthetic" (a learnable fake Fashion-MNIST written into the output folder,
    for tests) or None (the dataset named in ``train``, from its usual place).
    """

    train: dict[str, Any]  # TrainConfig overrides shared by every arm
    seeds: int  # default number of seeds (ensemble: members)
    duration: str  # how long it takes, measured or estimated, and where
    data: str | None = None
    arms: dict[str, Any] = field(default_factory=dict)  # scale-specific arm settings


@dataclass
class Trained:
    """A finished model of an experiment: its run folder and what its training recorded."""

    arm: Arm
    seed: int
    run_dir: Path
    rows: list[dict[str, Any]]  # the trainer's per-epoch rows (metrics.csv)
    params: int
    seconds: float  # training wall-clock seconds (no evaluation)
    cpu_seconds: float  # CPU seconds of the training process: fair when the cores are shared
    steps_per_epoch: int

    @property
    def last(self) -> dict[str, Any]:
        """The last epoch's row of metrics.csv."""
        return self.rows[-1]

    @property
    def train_error(self) -> float:
        """Training error of the last epoch (running, over its batches), a fraction."""
        return 1 - self.last["train_acc"]

    @property
    def test_error(self) -> float:
        """Top-1 test error after the last epoch, a fraction."""
        return 1 - self.last["test_acc"]


@dataclass(frozen=True)
class Finding:
    """One checked statement: verdict is one of ``report.VERDICTS``."""

    statement: str
    verdict: str
    reason: str


@dataclass
class Analysis:
    """What ``Experiment.analyze`` returns; the report writer lays it out."""

    columns: list[str]
    rows: list[list[str]]
    findings: list[Finding]
    numbers: dict[str, Any]  # into results.json
    figure: Callable[[Path], Path] | None = None  # writes the PNG at the given path
    figure_caption: str = ""
    notes: list[str] = field(default_factory=list)


@dataclass
class Context:
    """What ``analyze`` gets: the finished models in training order, and where they are."""

    experiment: Experiment
    scale_name: str
    scale: Scale
    trained: list[Trained]
    folder: Path

    def arm_runs(self, key: str) -> list[Trained]:
        """The finished models of one arm, by seed."""
        return [t for t in self.trained if t.arm.key == key]


@dataclass(frozen=True)
class Experiment:
    """A claim of the lecture as something to rerun (see the module docstring)."""

    name: str
    title: str
    claim: str  # quoted from the lecture
    lecture: str  # where the lecture says it
    source: str  # the paper (and figure or table) the claim comes from
    scales: dict[str, Scale]
    arms: Callable[[Scale], list[Arm]]
    analyze: Callable[[Context], Analysis]
    paper_setup: str = ""  # what the paper did, to set beside our setup
