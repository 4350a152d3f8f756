"""Corruption throughput: cnnlab's batched corruptions against the nearest torchvision
transforms.v2 applied per image in a DataLoader, in the same run; then the whole
`cnnlab robustness` on a run (10,000 test images x every corruption x 5 severities).

Both sides get the same uint8 1 x 28 x 28 Fashion-MNIST test images (the system copy, else
synthetic ones of the same shape) and produce uint8 images. cnnlab corrupts them 1,000 at a
time, as `cnnlab robustness` does; torchvision's transform runs image by image inside a
DataLoader with batches of 1,000 (num_workers 0: the machine has 2 cores). Where torchvision
has no transform of the same kind (shadow, stripes, texture) the peer column is empty; where
its nearest transform does a different job of the same kind (ColorJitter's multiplicative
brightness, ElasticTransform for the smooth warp, GaussianNoise for the noisy background) the
table names it. Best of --repeats timed runs after a warm-up.

    .venv/bin/python benchmarks/bench_corruptions.py --run runs/demo \\
        --out benchmarks/results/corruptions.md
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable

import torch
import torchvision
from torchvision.transforms import v2
from torchvision.transforms.v2 import functional as TF

from cnnlab.corruptions import CORRUPTIONS
from cnnlab.data import load_dataset
from cnnlab.errors import CnnlabError
from cnnlab.fileio import write_text
from cnnlab.robustness.measure import corrupted_images

SEVERITY = 3


def peers() -> dict[str, tuple[str, Callable]]:
    """Corruption -> (torchvision transform named as in the table, the transform) at about
    severity 3's strength."""
    float_noise = v2.Compose([v2.ToDtype(torch.float32, scale=True), v2.GaussianNoise(sigma=0.1),
                              v2.ToDtype(torch.uint8, scale=True)])
    return {
        "rotation": ("RandomRotation(24)", v2.RandomRotation(24)),
        "shear": ("RandomAffine(shear=17)", v2.RandomAffine(0, shear=17)),
        "scale": ("RandomAffine(scale=(0.7, 1.3))", v2.RandomAffine(0, scale=(0.7, 1.3))),
        "translation": ("RandomAffine(translate=0.18)",
                        v2.RandomAffine(0, translate=(0.18, 0.18))),
        "perspective": ("RandomPerspective(0.36, p=1)", v2.RandomPerspective(0.36, p=1.0)),
        "brightness": ("ColorJitter(brightness=0.3), multiplicative",
                       v2.ColorJitter(brightness=0.3)),
        "contrast": ("ColorJitter(contrast=0.7)", v2.ColorJitter(contrast=0.7)),
        "gamma": ("adjust_gamma(2.2)", v2.Lambda(lambda x: TF.adjust_gamma(x, 2.2))),
        "elastic": ("ElasticTransform(alpha=50, sigma=3.5)",
                    v2.ElasticTransform(alpha=50.0, sigma=3.5)),
        "warp": ("ElasticTransform(alpha=50, sigma=3.5), nearest",
                 v2.ElasticTransform(alpha=50.0, sigma=3.5)),
        "erase": ("RandomErasing(p=1, scale=0.3)",
                  v2.RandomErasing(p=1.0, scale=(0.3, 0.3), ratio=(1.0, 1.0), value=128)),
        "noise": ("GaussianNoise(0.1) on float, nearest", float_noise),
    }


class _PerImage(torch.utils.data.Dataset):
    def __init__(self, images: torch.Tensor, transform: Callable) -> None:
        self.images, self.transform = images, transform

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, i: int) -> torch.Tensor:
        return self.transform(self.images[i])


def _best(fn: Callable[[], object], repeats: int) -> float:
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def throughput(images: torch.Tensor, repeats: int) -> list[tuple[str, float, str, float]]:
    """(corruption, cnnlab images/s, peer name, peer images/s or 0)."""
    device = torch.device("cpu")
    rows = []
    table = peers()
    for name in CORRUPTIONS:
        ours = _best(lambda n=name: corrupted_images(images, n, SEVERITY, 0, device), repeats)
        peer_name, peer_rate = "-", 0.0
        if name in table:
            peer_name, transform = table[name]
            loader = torch.utils.data.DataLoader(_PerImage(images, transform), batch_size=1000,
                                                 num_workers=0)
            peer_rate = len(images) / _best(lambda lo=loader: [b for b in lo], repeats)
        rows.append((name, len(images) / ours, peer_name, peer_rate))
        print(f"{name:12s} cnnlab {rows[-1][1]:10.0f}/s   {peer_name:45s} {peer_rate:9.0f}/s",
              flush=True)
    return rows


def whole_command(run: str, limit: int | None) -> float:
    """Minutes of `cnnlab robustness RUN` (all corruptions, severities 1-5; the first
    ``limit`` test images, default all)."""
    extra = ["--limit", str(limit)] if limit else []
    with tempfile.TemporaryDirectory() as out:
        start = time.perf_counter()
        result = subprocess.run([sys.executable, "-m", "cnnlab", "robustness", run, "--out",
                                 out, *extra], capture_output=True, text=True, check=False)
        minutes = (time.perf_counter() - start) / 60
    if result.returncode:
        raise CnnlabError(f"cnnlab robustness {run} failed: {result.stderr.strip()}")
    return minutes


def machine() -> str:
    try:
        lscpu = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
        fields = dict(line.split(":", 1) for line in lscpu.splitlines() if ":" in line)
        model = fields.get("Model name", "unknown").strip()
        flags = [f for f in fields.get("Flags", "").split() if f.startswith(("avx", "fma"))]
    except (OSError, subprocess.CalledProcessError):
        model, flags = platform.processor() or "unknown", []
    return (f"{model}, {os.cpu_count()} logical CPUs (flags {' '.join(flags) or 'n/a'}); "
            f"Python {platform.python_version()}, torch {torch.__version__} "
            f"({torch.get_num_threads()} threads), torchvision {torchvision.__version__}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=10_000, help="test images corrupted")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs per contender")
    parser.add_argument("--run", help="also time `cnnlab robustness RUN` (all of it)")
    parser.add_argument("--run-limit", type=int, help="time it on the first N test images")
    parser.add_argument("--threads", type=int, default=0,
                        help="torch threads for both sides (0: torch's default)")
    parser.add_argument("--out", help="write the markdown report here")
    parser.add_argument("--note", default="", help="a line for the report (e.g. shared machine)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    try:
        test = load_dataset("fashion-mnist", "test")
        images, source = test.images[:args.images], "Fashion-MNIST test images"
    except CnnlabError:
        images = torch.randint(0, 256, (args.images, 1, 28, 28), dtype=torch.uint8)
        source = "random 28 x 28 images (no Fashion-MNIST copy found)"
    rows = throughput(images, args.repeats)
    header = ("| corruption | cnnlab (images/s) | torchvision v2 per image | peer (images/s) "
              "| cnnlab / peer |")
    lines = [header, "|---|---:|---|---:|---:|"]
    for name, ours, peer_name, peer in rows:
        ratio = f"{ours / peer:.1f}x" if peer else "-"
        peer_text = f"{peer:,.0f}" if peer else "-"
        lines.append(f"| {name} | {ours:,.0f} | {peer_name} | {peer_text} | {ratio} |")
    parts = [f"# Corruptions: {len(images):,} {source}, severity {SEVERITY}",
             f"Machine: {machine()}.",
             "Command: `.venv/bin/python benchmarks/bench_corruptions.py "
             + (f"--run {args.run} " if args.run else "")
             + (f"--run-limit {args.run_limit} " if args.run_limit else "")
             + f"--images {args.images} --threads {args.threads} "
             f"--repeats {args.repeats} --out {args.out}`.",
             f"Best of {args.repeats} runs after a warm-up; both sides in the same run.",
             *([args.note] if args.note else []), "\n".join(lines)]
    if args.run:
        minutes = whole_command(args.run, args.run_limit)
        images = f"the first {args.run_limit:,}" if args.run_limit else "all 10,000"
        parts.append(f"The whole `cnnlab robustness {args.run}` ({len(CORRUPTIONS)} corruptions x "
                     f"5 severities + the clean pass over {images} test images, the figures "
                     f"and robustness.json, process start included): **{minutes:.1f} minutes**.")
    report = "\n\n".join(parts) + "\n"
    print(report)
    if args.out:
        write_text(args.out, report)


if __name__ == "__main__":
    main()
