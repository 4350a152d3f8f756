"""What ``auto`` stands for: the fastest of a few runtimes for one model, timed here and remembered.

Why time instead of a rule: benchmarks/bench_inference.py found ONNX Runtime and OpenVINO within
each other's run-to-run spread on this project's CPU, the faster one changing with the model,
the batch size and the run (benchmarks/results/inference.md). A rule read off one run, "ONNX
Runtime below batch 16, OpenVINO from 16", was the fastest in 1 cell of 6 in the next run. So
``auto`` times each candidate on the model itself, at the batch size asked for, with the thread
count in use: a few untimed calls, then ROUNDS rounds in which the candidates take turns (a
change of load hits all of them), each round ``calls`` calls long; the lowest median seconds per
call wins (a round is one call of resnet50, hundreds of a Fashion-MNIST net).

The choice is remembered in ``~/.cache/cnnlab/autotune.json`` ($XDG_CACHE_HOME respected) under
a key the caller builds from everything the timing depends on (weights, input size, batch,
threads, CPU model, runtime versions), so only the first call for a model pays: about 15 s for
resnet50 at batch 16 on 2 cores, well under a second for the Fashion-MNIST nets. A cache file
that cannot be read is measured again and rewritten.
"""

from __future__ import annotations

import json
import math
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import torch

from cnnlab.fileio import cache_dir, write_json

ROUNDS = 5
WARMUP = 2
ROUND_SECONDS = 0.05  # a round of a fast model is this long at least, so the clock resolves it
MAX_CALLS = 1000


@dataclass
class Choice:
    """The fastest candidate: its name, the built runner when it was built here (None on a
    cache hit), the median milliseconds per call of every candidate, and whether it was cached."""

    name: str
    runner: Callable[[torch.Tensor], object] | None = None
    ms_per_call: dict[str, float] = field(default_factory=dict)
    cached: bool = False


def cache_file() -> Path:
    """The JSON file of remembered choices."""
    return cache_dir() / "autotune.json"


def _read_cache() -> dict:
    try:
        data = json.loads(cache_file().read_text(encoding="utf-8"))
    except (OSError, ValueError):  # absent or unreadable: measure again
        return {}
    return data if isinstance(data, dict) else {}


def _remember(key: str, choice: Choice) -> None:
    data = _read_cache()
    data[key] = {"name": choice.name, "ms_per_call": choice.ms_per_call}
    write_json(cache_file(), data)


def time_candidates(runners: dict[str, Callable[[torch.Tensor], object]], x: torch.Tensor,
                    rounds: int = ROUNDS) -> dict[str, float]:
    """Median milliseconds per call of each runner on ``x`` (N x C x H x W), the runners taking
    turns within each of ``rounds`` rounds of about ROUND_SECONDS each (one call at least)."""
    first = {}
    for name, run in runners.items():
        for _ in range(WARMUP):
            start = time.perf_counter()
            run(x)
            first[name] = time.perf_counter() - start
    # each runner's round lasts about ROUND_SECONDS whatever its speed
    calls = {n: min(MAX_CALLS, math.ceil(ROUND_SECONDS / max(t, 1e-9))) for n, t in first.items()}
    samples: dict[str, list[float]] = {name: [] for name in runners}
    for round_ in range(rounds):
        order = list(runners) if round_ % 2 == 0 else list(runners)[::-1]
        for name in order:
            start = time.perf_counter()
            for _ in range(calls[name]):
                runners[name](x)
            samples[name].append((time.perf_counter() - start) / calls[name])
    return {name: 1e3 * statistics.median(times) for name, times in samples.items()}


def fastest(builders: dict[str, Callable[[], Callable[[torch.Tensor], object]]],
            x: torch.Tensor, key: str, use_cache: bool = True) -> Choice:
    """The fastest of ``builders`` (name -> a function building that runner) on the batch
    ``x``; a remembered choice for ``key`` is returned without building anything.

    A single candidate is returned untimed. With ``use_cache`` False the candidates are timed
    whatever is remembered (the choice is still written, for later calls)."""
    if len(builders) == 1:
        name = next(iter(builders))
        return Choice(name, builders[name]())
    remembered = _read_cache().get(key) if use_cache else None
    if isinstance(remembered, dict) and remembered.get("name") in builders:
        return Choice(remembered["name"], ms_per_call=remembered.get("ms_per_call", {}),
                      cached=True)
    runners = {name: build() for name, build in builders.items()}
    ms = time_candidates(runners, x)
    best = min(ms, key=ms.get)
    choice = Choice(best, runners[best], {n: round(v, 4) for n, v in ms.items()})
    _remember(key, choice)
    return choice
