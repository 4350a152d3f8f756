"""Training-step time of fastnet variants on the CPU: what one step of the ``fast`` recipe costs.

The step is the recipe's: channels_last batch of 256 random 1x28x28 images, label-smoothed
cross-entropy, fused Nesterov SGD. Variants (widths, stem, residual, pool_grid, torch.compile of
the model) run in alternating rounds in one process, so a change of load hits all of them; the
figure is the median over rounds of the mean step time, and the ratio is to the first variant.

    python benchmarks/bench_fast_step.py --threads 2 --rounds 4 --steps 15 --layouts --compile
    python benchmarks/bench_fast_step.py --threads 2 --rounds 4 --steps 15 --amp

``--amp`` adds the recipe's and fast-30min's nets under bf16 autocast (the recipe uses it where
cnnlab.device.bf16_is_fast says so: CUDA, and CPUs with AMX).

Compile time (the first steps of a compiled model) is reported apart from the step time.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time

import torch
from torch import nn

from cnnlab.models import get_model

VARIANTS = {
    "16-32-64 patch (the recipe before)": {"widths": [16, 32, 64]},
    "16-32-64 conv3-pool (the recipe)": {"widths": [16, 32, 64], "stem": "conv3-pool"},
    "16-32-64 conv3-pool, pool_grid 3": {"widths": [16, 32, 64], "stem": "conv3-pool",
                                         "pool_grid": 3},
    "16-32-96 conv3-pool": {"widths": [16, 32, 96], "stem": "conv3-pool"},
    "16-32-64 patch, residual": {"widths": [16, 32, 64], "residual": True},
    "24-48-96 patch": {"widths": [24, 48, 96]},
    "32-64-128 patch (fast-30min)": {"widths": [32, 64, 128], "stem": "patch"},
}
RECIPE = VARIANTS["16-32-64 conv3-pool (the recipe)"]
AMP_VARIANTS = {
    "16-32-64 conv3-pool, bf16 autocast": RECIPE,
    "32-64-128 patch, bf16 autocast": VARIANTS["32-64-128 patch (fast-30min)"],
}
# The recipe's net with another layout or convolution kernel (``--layouts``).
LAYOUTS = {
    "16-32-64 conv3-pool, NCHW": {"channels_last": False},
    "16-32-64 conv3-pool, torch's native conv (no oneDNN)": {"mkldnn": False},
    "16-32-64 conv3-pool, NCHW, native conv": {"channels_last": False, "mkldnn": False},
}


def make_step(options: dict, batch: int, compiled: bool = False, channels_last: bool = True,
              mkldnn: bool = True, bf16: bool = False):
    """A closure running one training step of fastnet(**options); returns it after 3 warm-up
    steps, with the warm-up's seconds (compilation included)."""
    torch.manual_seed(0)
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    model = get_model("fastnet", **options).to(memory_format=fmt)
    forward = torch.compile(model) if compiled else model
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, nesterov=True, fused=True)
    x = torch.randn(batch, 1, 28, 28).to(memory_format=fmt)
    y = torch.randint(0, 10, (batch,))
    loss_fn = nn.CrossEntropyLoss(label_smoothing=0.1)

    def step() -> None:
        with (torch.backends.mkldnn.flags(enabled=mkldnn),
              torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16)):
            opt.zero_grad(set_to_none=True)
            loss_fn(forward(x), y).backward()
            opt.step()

    start = time.perf_counter()
    for _ in range(3):
        step()
    return step, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--steps", type=int, default=15)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--compile", action="store_true",
                        help="also the recipe's variant under torch.compile")
    parser.add_argument("--layouts", action="store_true",
                        help="also the recipe's variant in NCHW and with native convolutions")
    parser.add_argument("--amp", action="store_true",
                        help="also the recipe's and fast-30min's nets under bf16 autocast")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    steps, warmups = {}, {}
    for name, options in VARIANTS.items():
        steps[name], warmups[name] = make_step(options, args.batch)
    for name, layout in LAYOUTS.items() if args.layouts else ():
        steps[name], warmups[name] = make_step(RECIPE, args.batch, **layout)
    for name, options in AMP_VARIANTS.items() if args.amp else ():
        steps[name], warmups[name] = make_step(options, args.batch, bf16=True)
    if args.compile:
        name = "16-32-64 conv3-pool, torch.compile"
        steps[name], warmups[name] = make_step(RECIPE, args.batch, compiled=True)
    times: dict[str, list[float]] = {name: [] for name in steps}
    load_before = os.getloadavg()
    for _ in range(args.rounds):
        for name, step in steps.items():
            start = time.perf_counter()
            for _ in range(args.steps):
                step()
            times[name].append((time.perf_counter() - start) / args.steps)
    first = statistics.median(times[next(iter(times))])
    print(f"torch {torch.__version__}, {args.threads} threads, batch {args.batch}, "
          f"{platform.processor() or platform.machine()}, load before "
          f"{' '.join(f'{v:.1f}' for v in load_before)}, after "
          f"{' '.join(f'{v:.1f}' for v in os.getloadavg())}\n")
    print(f"| variant | ms/step (median) | range | s/epoch ({60000 // args.batch} steps) "
          "| vs first | warm-up s |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, values in times.items():
        median = statistics.median(values)
        print(f"| {name} | {median * 1e3:.1f} | {min(values) * 1e3:.1f}-{max(values) * 1e3:.1f} "
              f"| {median * (60000 // args.batch):.1f} | {median / first:.2f}x "
              f"| {warmups[name]:.1f} |")
    print("\n" + json.dumps({k: [round(v * 1e3, 2) for v in vals] for k, vals in times.items()}))


if __name__ == "__main__":
    main()
