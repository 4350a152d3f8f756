"""Inference speed of each cnnlab backend against plain PyTorch eager, same invocation.

The peer is what a PyTorch user writes: torchvision's resnet50 in eval mode under
torch.no_grad, NCHW float32. Our rows are cnnlab's resnet50 (the same architecture) run by each
backend of cnnlab.inference.backends. Each figure is the median of --repeats calls after
--warmup untimed ones, on the wall clock and on this process's CPU clock (the fair one when
other jobs share the machine; use --threads 1 then). Prints a markdown table per batch size and
the targets: the default backend >= 0.9x the fastest, and >= 1.5x the peer.

    python benchmarks/bench_inference.py --model resnet50 --batch 1 16 --threads 1
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import torch
import torchvision

from cnnlab.inference.backends import BACKENDS, DEFAULT_BACKEND, load_backend, measure_latency
from cnnlab.models import get_model, model_info

PEER = "torchvision eager (peer)"


def _peer(name: str) -> torch.nn.Module:
    return torchvision.models.get_model(name, weights=None).eval()


def time_all(model_name: str, batch: int, warmup: int, repeats: int) -> list[dict]:
    """One row per runner: median wall and CPU milliseconds per batch."""
    torch.manual_seed(0)
    model = get_model(model_name).eval()
    size = model_info(model_name).input_size
    x = torch.randn(batch, *size, generator=torch.Generator().manual_seed(0))
    peer = _peer(model_name)

    def run_peer(images: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            return peer(images)

    runners = {PEER: run_peer, **{b: load_backend(b, model, size) for b in BACKENDS}}
    rows = []
    for name, runner in runners.items():
        wall = measure_latency(runner, x, warmup, repeats)
        cpu = measure_latency(runner, x, 1, repeats, clock=time.process_time)
        rows.append({"runner": name, "wall_ms": 1e3 * statistics.median(wall),
                     "cpu_ms": 1e3 * statistics.median(cpu)})
        print(f"  batch {batch} {name}: {rows[-1]}", flush=True)
    return rows


def report(model_name: str, batch: int, rows: list[dict], clock: str) -> dict:
    """Markdown table on stdout; the target checks as a dict."""
    peer = next(r[clock] for r in rows if r["runner"] == PEER)
    fastest = min(r[clock] for r in rows if r["runner"] != PEER)
    print(f"\n{model_name}, batch {batch}, clock {clock}\n")
    print("| runner | ms/batch | images/s | vs peer | vs fastest backend |")
    print("|---|---:|---:|---:|---:|")
    for r in rows:
        mark = " (default)" if r["runner"] == DEFAULT_BACKEND else ""
        print(f"| {r['runner']}{mark} | {r[clock]:.1f} | {1e3 * batch / r[clock]:.1f} | "
              f"{peer / r[clock]:.2f}x | {fastest / r[clock]:.2f}x |")
    default = next(r[clock] for r in rows if r["runner"] == DEFAULT_BACKEND)
    return {"batch": batch, "clock": clock, "default_vs_fastest": fastest / default,
            "default_vs_peer": peer / default}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="resnet50")
    parser.add_argument("--batch", type=int, nargs="+", default=[1, 16])
    parser.add_argument("--threads", type=int, default=0, help="torch/ORT threads (0: default)")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=10)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, default backend "
          f"{DEFAULT_BACKEND}")
    targets = []
    for batch in args.batch:
        rows = time_all(args.model, batch, args.warmup, args.repeats)
        targets += [report(args.model, batch, rows, clock) for clock in ("cpu_ms", "wall_ms")]
    print("\ntargets (default >= 0.9x fastest, >= 1.5x peer):")
    print(json.dumps(targets, indent=2))


if __name__ == "__main__":
    main()
