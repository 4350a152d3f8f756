"""The explorer's models: what the page names -> a loaded model, kept in a small LRU.

The page names a zoo model (``{"model": "resnet18", "size": 112}``) or a run under ``--runs``
(``{"run": "<id>"}``), never a path. Weights come only from the server's start
(``StudioConfig.weights``); a zoo model without them has random weights, and says so.

Each loaded model has one lock (one computation per model at a time: two requests on one
model would only share its cores) and a small cache of finished answers keyed by what was
asked (operation, image, layer, options). ``StudioConfig.models_kept`` bounds the models in
memory; the oldest is dropped when another is opened.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from torch import nn

from cnnlab.checkpoint import STEM
from cnnlab.errors import CnnlabError
from cnnlab.models import list_models, model_info
from cnnlab.models.base import minimum_input_size
from cnnlab.studio.config import StudioConfig
from cnnlab.studio.http import ApiError
from cnnlab.studio.http import field as body_field
from cnnlab.studio.lru import LRU
from cnnlab.studio.rundirs import resolve_run
from cnnlab.visualize.inputs import load_subject

ANSWERS_KEPT = 48  # finished answers cached per loaded model (maps are a few hundred kB each)
MAX_SIDE = 1024  # a chosen input side; larger ImageNet inputs only slow a 2-core laptop down


@dataclass(frozen=True)
class Subject:
    """What the page asked to open: a zoo model at a square side (None: native), or a run."""

    kind: str  # "model" or "run"
    name: str  # registry name or run id
    size: int | None = None
    folder: Path | None = None  # the run's folder (resolved under --runs)
    stamp: float = 0.0  # the run checkpoint's mtime: a retrained run is loaded again

    @property
    def label(self) -> str:
        return self.name if self.kind == "run" or self.size is None else \
            f"{self.name} at {self.size}x{self.size}"

    @property
    def spec(self) -> str:
        """What cnnlab.runs takes: a run folder path or a registry name."""
        return str(self.folder) if self.folder is not None else self.name


def subject_from(body: dict[str, Any], config: StudioConfig) -> Subject:
    """The model a request names: ``model`` (+ optional ``size``) or ``run``; 4xx otherwise."""
    has_model, has_run = body.get("model") is not None, body.get("run") is not None
    if has_model == has_run:
        raise ApiError(400, "name either a zoo model (field 'model') or a run (field 'run')")
    if has_run:
        run_id = body_field(body, "run", str)
        folder = resolve_run(config.runs_dir, run_id)
        checkpoint = folder / f"{STEM}.json"
        if not checkpoint.is_file():
            raise ApiError(404, f"run {run_id!r} has no checkpoint yet ({STEM}.json)")
        return Subject("run", run_id, None, folder, checkpoint.stat().st_mtime)
    name = body_field(body, "model", str)
    if name not in list_models():
        raise ApiError(404, f"unknown model {name[:80]!r}: `cnnlab models` lists the "
                            f"{len(list_models())} names")
    size = body_field(body, "size", int, default=None, minimum=1, maximum=MAX_SIDE)
    if size is not None and size == model_info(name).input_size[1]:
        size = None
    return Subject("model", name, size)


@dataclass
class Loaded:
    """A model on the CPU in eval mode, its metadata (``cnnlab.runs`` shape), and its answers."""

    subject: Subject
    model: nn.Module
    meta: dict[str, Any]
    weights: str  # what the weights are, in words
    lock: threading.Lock = field(default_factory=threading.Lock)
    answers: LRU[tuple, dict] = field(default_factory=lambda: LRU(ANSWERS_KEPT))

    @property
    def input_size(self) -> tuple[int, int, int]:
        c, h, w = self.meta["input_size"]
        return int(c), int(h), int(w)

    def compute(self, key: tuple, work: Callable[[], dict]) -> dict:
        """``work()`` under this model's lock, or its cached answer for ``key``."""
        with self.lock:
            return self.answers.get_or_make(key, work)


@contextlib.contextmanager
def named_by_id(subject: Subject) -> Iterator[None]:
    """Library errors as 400s that name a run by its id: the page names runs by id, and the
    server's folders stay out of its messages."""
    try:
        yield
    except CnnlabError as err:
        message = str(err)
        if subject.folder is not None:
            message = message.replace(str(subject.folder), f"run {subject.name}")
        raise ApiError(400, message) from None


def weights_text(subject: Subject, config: StudioConfig) -> tuple[str, bool]:
    """What the subject's weights are, in words, and whether they are random."""
    if subject.kind == "run":
        return "the run's own checkpoint", False
    weights = config.weights_for(subject.name)
    if weights is None:
        return ("random: the studio was started without weights for this model (cnnlab "
                "studio --weights NAME=FILE), so its predictions mean nothing"), True
    return f"{Path(weights).name} (given when the studio started)", False


def _load(subject: Subject, config: StudioConfig) -> Loaded:
    weights = None if subject.kind == "run" else config.weights_for(subject.name)
    with named_by_id(subject):
        model, meta = load_subject(subject.spec, weights, subject.size)
    described, _ = weights_text(subject, config)
    side = int(meta["input_size"][1])
    smallest = minimum_input_size(model)
    if side < smallest:
        raise ApiError(400, f"input {side}x{side} is too small for {meta['model']}: the "
                            f"minimum is {smallest}x{smallest}")
    return Loaded(subject, model, meta, described)


class ModelStore:
    """The last ``kept`` loaded models, by subject; loading happens outside the store's lock."""

    def __init__(self, config: StudioConfig) -> None:
        self._config = config
        self._models: LRU[Subject, Loaded] = LRU(config.models_kept)

    @property
    def kept(self) -> int:
        return self._models.kept

    def get(self, subject: Subject) -> Loaded:
        """The loaded model for ``subject``, loading it (once, even when asked twice at once)."""
        return self._models.get_or_make(subject, lambda: _load(subject, self._config))

    def names(self) -> list[str]:
        return [s.label for s in self._models.held()]
