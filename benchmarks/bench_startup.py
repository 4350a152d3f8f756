"""Start-up of the command line: wall time and peak memory of `cnnlab --help` and the three
light commands (kernels, shape, trace conv), each a fresh process through the console entry
point, against `python -c "import torch"` measured in the same run.

The commands take turns (one round is every command once, after one untimed round that warms
the file cache), so a change in the machine's load reaches all of them alike; the report gives
the median of --runs rounds and the load average before and after.

    .venv/bin/python benchmarks/bench_startup.py --out benchmarks/results/startup.md
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import textwrap
import time
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path

from cnnlab.fileio import write_text

TARGET = 0.2  # `cnnlab --help` in at most this fraction of `import torch`
SHAPE_ARGS = ["shape", "--input", "227x227x3", "conv:96,11,4,0", "pool:3,2", "fc:4096"]
COMMANDS = {
    "cnnlab --help": ["--help"],
    "cnnlab kernels": ["kernels"],
    "cnnlab " + " ".join(SHAPE_ARGS): SHAPE_ARGS,
    "cnnlab trace conv --example lecture": ["trace", "conv", "--example", "lecture"],
}
PEER = 'python -c "import torch"'
BARE = 'python -c "pass"'  # the interpreter's own start-up, for scale


def entry_point() -> str:
    """The `cnnlab` console script beside this interpreter (what a user's shell runs)."""
    beside = Path(sys.executable).parent / "cnnlab"
    found = str(beside) if beside.exists() else shutil.which("cnnlab")
    if found is None:
        raise SystemExit("no `cnnlab` console script: pip install -e . first")
    return found


def measure(argv: list[str]) -> tuple[float, float]:
    """Wall seconds and peak resident memory (MB) of one process running ``argv``."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} exited with {proc.returncode}")
    return seconds, usage.ru_maxrss / 1024  # ru_maxrss is in KiB on Linux


def run(runs: int) -> dict[str, list[tuple[float, float]]]:
    script = entry_point()
    argvs = {label: [script, *args] for label, args in COMMANDS.items()}
    argvs[PEER] = [sys.executable, "-c", "import torch"]
    argvs[BARE] = [sys.executable, "-c", "pass"]
    for argv in argvs.values():  # untimed: file cache and .pyc files
        measure(argv)
    samples: dict[str, list[tuple[float, float]]] = {label: [] for label in argvs}
    for round_ in range(runs):
        for label, argv in argvs.items():
            samples[label].append(measure(argv))
        print(f"round {round_ + 1}/{runs}: " + ", ".join(
            f"{label.split(' ')[1] if label.startswith('cnnlab') else label[10:]} "
            f"{samples[label][-1][0]:.2f}s" for label in argvs), flush=True)
    return samples


def load() -> str:
    """The 1, 5 and 15 minute load averages, as uptime prints them."""
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f}, {five:.2f}, {fifteen:.2f}"


def load_note(loads: tuple[str, str]) -> str:
    """Whether the machine was busy, from the 1-minute load average before the run."""
    busy = float(loads[0].split(",")[0]) > 0.5 * (os.cpu_count() or 1)
    return ("the machine was busy (other work running), so every figure, torch's included, is "
            "slower than on a quiet machine" if busy else "the machine was quiet")


def machine() -> tuple[str, str]:
    """The CPU model and its flags, from lscpu."""
    try:
        lscpu = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return platform.processor() or platform.machine(), "unknown"
    fields = dict(line.split(":", 1) for line in lscpu.splitlines() if ":" in line)
    return (fields.get("Model name", platform.machine()).strip(),
            fields.get("Flags", "unknown").strip())


def report(samples: dict[str, list[tuple[float, float]]], runs: int, loads: tuple[str, str],
           command: str) -> str:
    model, flags = machine()
    median = {label: statistics.median(s for s, _ in values) for label, values in samples.items()}
    memory = {label: statistics.median(m for _, m in values) for label, values in samples.items()}
    torch_s = median[PEER]
    rows = ["| command | median wall (s) | runs (s) | peak memory (MB) | vs import torch |",
            "|---|---:|---|---:|---:|"]
    for label, values in samples.items():
        runs_text = " ".join(f"{s:.2f}" for s, _ in values)
        rows.append(f"| `{label}` | {median[label]:.3f} | {runs_text} | {memory[label]:.0f} | "
                    f"{median[label] / torch_s:.2f}x |")
    ratio = median["cnnlab --help"] / torch_s
    verdict = "met" if ratio <= TARGET else "not met"
    versions = ", ".join(f"{name} {version(name)}"
                         for name in ("torch", "typer", "rich", "numpy", "pillow"))
    wrapped = "\n".join(textwrap.wrap(flags, 96))
    return "\n".join([
        "# Start-up: `cnnlab --help` and the light commands vs `import torch`",
        "",
        (f"Machine: {model}, {os.cpu_count()} logical CPUs. Python {platform.python_version()}, "
        f"{versions}."),
        "",
        "CPU flags (lscpu):",
        "",
        "```",
        wrapped,
        "```",
        "",
        f"Command: `{command}`.",
        "",
        (f"Each command is a fresh process; `cnnlab` is the console entry point. Median of {runs} "
        "rounds, the commands taking turns in each round, after one untimed round. Measured "
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC; load average (1, 5, 15 min) {loads[0]} "
        f"before and {loads[1]} after: {load_note(loads)}."),
        "",
        *rows,
        "",
        (f"**`cnnlab --help` takes {ratio:.2f}x the time of `import torch`** (target <= "
        f"{TARGET}x: {verdict}). `cnnlab --help`, `kernels`, `shape` and `trace conv` import "
        "neither torch, torchvision nor matplotlib (tests/cli/test_cli_commands.py checks it): "
        "the command list is a table in cnnlab/cli/__init__.py and a command's module is "
        "imported only when that command runs."),
        "",
    ])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="timed rounds")
    parser.add_argument("--out", type=Path, help="write the Markdown report here")
    args = parser.parse_args()
    before = load()
    samples = run(args.runs)
    text = report(samples, args.runs, (before, load()),
                  "python benchmarks/bench_startup.py " + " ".join(sys.argv[1:]))
    print(text)
    if args.out is not None:
        write_text(args.out, text)


if __name__ == "__main__":
    main()
