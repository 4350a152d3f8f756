"""Time one ONNX runtime on one ONNX file, in a process of its own (what ``auto`` measures with).

    python -m cnnlab.inference.time_runtime onnxruntime model.onnx --shape 16 3 224 224 --threads 2

Prints one JSON line: ``{"seconds": [...]}``, seconds per call of each round. Its own process,
because two runtimes in one process disturb each other: OpenVINO timed in turns with ONNX
Runtime in one process ran 1.2-1.7x slower than in a process of its own (the auto rows of
benchmarks/results/inference-auto-one-process.json against the same runtimes' own rows), because
ONNX Runtime's pool threads spin-wait after each call (benchmarks/check_ort_spinning.py: with the
spinning off OpenVINO runs as fast as alone, and ONNX Runtime itself slower).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from cnnlab.errors import CnnlabError
from cnnlab.inference.onnx_runtime import ort_session
from cnnlab.inference.openvino_runtime import ov_compiled

RUNTIMES = ("onnxruntime", "openvino")
ROUND_SECONDS = 0.05  # a round of a fast model is this long at least, so the clock resolves it
MAX_CALLS = 1000


def _runner(runtime: str, path: str, threads: int):
    if runtime == "onnxruntime":
        session = ort_session(path, threads)
        name = session.get_inputs()[0].name
        return lambda array: session.run(None, {name: array})
    request = ov_compiled(path, threads).create_infer_request()
    return lambda array: request.infer({0: array})


def time_runtime(runtime: str, path: str, shape: list[int], threads: int, rounds: int = 3,
                 warmup: int = 2) -> list[float]:
    """Seconds per call of ``runtime`` on ``path`` with a random float32 batch of ``shape``
    (N x C x H x W): ``warmup`` untimed calls, then ``rounds`` rounds of about ROUND_SECONDS
    (one call at least); one figure per round."""
    run = _runner(runtime, path, threads)
    x = np.random.default_rng(0).standard_normal(shape, dtype=np.float32)
    first = math.inf
    for _ in range(max(warmup, 1)):
        start = time.perf_counter()
        run(x)
        first = time.perf_counter() - start
    calls = min(MAX_CALLS, math.ceil(ROUND_SECONDS / max(first, 1e-9)))
    seconds = []
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(calls):
            run(x)
        seconds.append((time.perf_counter() - start) / calls)
    return seconds


def child_timer(runtime: str, path: str | Path, shape: list[int], threads: int,
                rounds: int = 3) -> Callable[[], list[float]]:
    """A function that runs time_runtime in a fresh Python process and returns its seconds per
    call (one per round); a failed child raises a one-line CnnlabError."""
    command = [sys.executable, "-m", "cnnlab.inference.time_runtime", runtime, str(path),
               "--shape", *map(str, shape), "--threads", str(threads), "--rounds", str(rounds)]
    package_root = str(Path(__file__).resolve().parents[2])  # the folder holding cnnlab/
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        p for p in (package_root, os.environ.get("PYTHONPATH")) if p)}

    def run() -> list[float]:
        done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
        if done.returncode:
            lines = done.stderr.strip().splitlines() or [f"exit status {done.returncode}"]
            raise CnnlabError(f"timing {runtime} on {path} failed: {lines[-1]}")
        return json.loads(done.stdout.strip().splitlines()[-1])["seconds"]
    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runtime", choices=RUNTIMES)
    parser.add_argument("onnx")
    parser.add_argument("--shape", type=int, nargs=4, required=True)
    parser.add_argument("--threads", type=int, required=True)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    print(json.dumps({"seconds": time_runtime(args.runtime, args.onnx, args.shape, args.threads,
                                              args.rounds)}))


if __name__ == "__main__":
    main()
