"""Apply a 3x3 and a 5x5 kernel to a 4096x4096 RGB image: cnnlab's default backend against
scipy.ndimage.correlate / convolve, OpenCV's filter2D and torch's conv2d, in the same run.

Every contender gets the same float32 image, zero padding and a same-size float32 output; each
uses its natural layout (H, W, C for cnnlab, scipy and OpenCV; a 1 x 3 x H x W channels_last
tensor for torch, made before timing, so torch is measured at its best). Times are the best of
--repeats runs after one warm-up, with the mean and spread printed too.

    .venv/bin/python benchmarks/bench_filters.py --out benchmarks/results/filters.md
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import time
from collections.abc import Callable

import cv2
import numpy as np
import scipy
import torch
import torch.nn.functional as F
from scipy import ndimage

from cnnlab.convolution.apply import apply_kernel
from cnnlab.fileio import write_text


def _time(fn: Callable[[], object], repeats: int) -> list[float]:
    fn()  # warm-up: first-call allocations and thread-pool start
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return times


def contenders(image: np.ndarray, kernel: np.ndarray) -> dict[str, Callable[[], object]]:
    k = kernel.shape[0]
    # channels_last: torch's depthwise CPU kernel is ~15x slower on a plain NCHW tensor.
    planes = torch.from_numpy(np.ascontiguousarray(image.transpose(2, 0, 1)))[None]
    planes = planes.contiguous(memory_format=torch.channels_last)
    weight = torch.from_numpy(kernel)[None, None].repeat(3, 1, 1, 1)
    return {
        "cnnlab apply_kernel (default)": lambda: apply_kernel(image, kernel, padding_mode="zero"),
        "OpenCV filter2D": lambda: cv2.filter2D(image, -1, kernel,
                                                borderType=cv2.BORDER_CONSTANT),
        "scipy.ndimage.correlate": lambda: ndimage.correlate(image, kernel[:, :, None],
                                                             mode="constant"),
        "scipy.ndimage.convolve": lambda: ndimage.convolve(image, kernel[::-1, ::-1, None],
                                                           mode="constant"),
        "torch conv2d (groups=3, channels_last)": lambda: F.conv2d(planes, weight,
                                                                   padding=k // 2, groups=3),
    }


def run(size: int, repeats: int) -> list[tuple[int, str, list[float]]]:
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (size, size, 3)).astype(np.float32)
    results = []
    for k in (3, 5):
        kernel = rng.standard_normal((k, k)).astype(np.float32)
        reference = apply_kernel(image, kernel, padding_mode="zero", backend="scipy")
        for name, fn in contenders(image, kernel).items():
            out = fn()
            out = out[0].permute(1, 2, 0).numpy() if isinstance(out, torch.Tensor) else out
            np.testing.assert_allclose(out, reference, rtol=1e-3, atol=0.5)  # same answer
            results.append((k, name, _time(fn, repeats)))
            print(f"{k}x{k}  {name:40s} best {min(results[-1][2]) * 1000:8.1f} ms", flush=True)
    return results


def table(results: list[tuple[int, str, list[float]]]) -> str:
    lines = ["| kernel | implementation | best (ms) | mean ± sd (ms) | ratio to fastest |",
             "|---|---|---:|---:|---:|"]
    for k in (3, 5):
        rows = [(name, times) for kk, name, times in results if kk == k]
        fastest = min(min(times) for _, times in rows)
        for name, times in rows:
            ms = [t * 1000 for t in times]
            spread = statistics.stdev(ms) if len(ms) > 1 else 0.0
            lines.append(f"| {k}x{k} | {name} | {min(ms):.1f} | {statistics.mean(ms):.1f} ± "
                         f"{spread:.1f} | {min(times) / fastest:.2f}x |")
    return "\n".join(lines)


def machine() -> str:
    try:
        lscpu = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
        model = next(line.split(":", 1)[1].strip() for line in lscpu.splitlines()
                     if line.startswith("Model name"))
    except (OSError, subprocess.CalledProcessError, StopIteration):
        model = platform.processor() or "unknown"

    return (f"{model}, {os.cpu_count()} logical CPUs; Python {platform.python_version()}, "
            f"NumPy {np.__version__}, SciPy {scipy.__version__}, OpenCV {cv2.__version__} "
            f"({cv2.getNumThreads()} threads), torch {torch.__version__} "
            f"({torch.get_num_threads()} threads)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=4096, help="image side in pixels")
    parser.add_argument("--repeats", type=int, default=5, help="timed runs per contender")
    parser.add_argument("--out", help="write the markdown report here")
    parser.add_argument("--note", default="", help="a line for the report (e.g. shared machine)")
    args = parser.parse_args()
    results = run(args.size, args.repeats)
    report = table(results)
    print(report)
    if args.out:
        command = ("`.venv/bin/python benchmarks/bench_filters.py --size "
                   f"{args.size} --repeats {args.repeats} --out {args.out}`")
        write_text(args.out, "\n\n".join([
            f"# Filters: {args.size}x{args.size} RGB float32, same-size output, zero padding",
            f"Machine: {machine()}.", f"Command: {command}.",
            f"Best of {args.repeats} runs after a warm-up; ratio = best / fastest best.",
            *([args.note] if args.note else []), report]) + "\n")


if __name__ == "__main__":
    main()
