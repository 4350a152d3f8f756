"""What ``auto`` stands for: the fastest of a few runtimes for one model, timed here and remembered.

Why time instead of a rule: benchmarks/bench_inference.py found ONNX Runtime and OpenVINO within
each other's run-to-run spread on this project's CPU, the faster one changing with the model,
the batch size and the run (benchmarks/results/inference.md). A rule read off one run, "ONNX
Runtime below batch 16, OpenVINO from 16", was the fastest in 1 cell of 6 in the next run. So
``auto`` times each candidate on the model itself, at the batch size asked for, with the thread
count in use, each in a process of its own (cnnlab.inference.time_runtime says why), in the
order A B B A so that a change of load hits both; the lower median seconds per call wins.

The choice is remembered in ``~/.cache/cnnlab/autotune.json`` ($XDG_CACHE_HOME respected) under
a key the caller builds from everything the timing depends on (weights, input size, batch,
threads, CPU model, runtime versions), so only the first call for a model pays: a few seconds
per candidate process, about 20 s in all for resnet50 at batch 16 on 2 cores. A cache file that
cannot be read is measured again and rewritten; two processes tuning at once may each write
their own entry, the later file winning (a lost entry is measured again).
"""

from __future__ import annotations

import json
import statistics
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from cnnlab.fileio import cache_dir, write_json

PASSES = 2  # A B, then B A


@dataclass
class Choice:
    """The fastest candidate, the median milliseconds per call of every candidate, and whether
    the choice was remembered from an earlier call (then nothing was timed now)."""

    name: str
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


def time_in_turns(timers: dict[str, Callable[[], list[float]]]) -> dict[str, float]:
    """Median milliseconds per call of each candidate; ``timers`` maps a name to a function
    that times it once and returns seconds per call (one figure per round). The candidates run
    in the order A B ... then ... B A, PASSES times in all."""
    samples: dict[str, list[float]] = {name: [] for name in timers}
    for turn in range(PASSES):
        for name in list(timers) if turn % 2 == 0 else list(timers)[::-1]:
            samples[name] += timers[name]()
    return {name: round(1e3 * statistics.median(s), 4) for name, s in samples.items()}


def fastest(timers: dict[str, Callable[[], list[float]]], key: str,
            use_cache: bool = True) -> Choice:
    """The fastest of ``timers``' candidates (see time_in_turns); a choice remembered for
    ``key`` is returned without timing anything, and a single candidate is not timed. With
    ``use_cache`` False the candidates are timed whatever is remembered (the new choice is
    still written, for later calls)."""
    if len(timers) == 1:
        return Choice(next(iter(timers)))
    remembered = _read_cache().get(key) if use_cache else None
    if isinstance(remembered, dict) and remembered.get("name") in timers:
        return Choice(remembered["name"], remembered.get("ms_per_call", {}), cached=True)
    ms = time_in_turns(timers)
    choice = Choice(min(ms, key=ms.get), ms)
    _remember(key, choice)
    return choice
