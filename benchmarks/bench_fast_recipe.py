"""Time-to-accuracy: cnnlab's ``fast`` recipe against the plain PyTorch loop, same invocation.

The peer (benchmarks/plain_loop.py) is the loop a PyTorch user writes first: torchvision
FashionMNIST + DataLoader (ToTensor, Normalize), batch 64, the two-conv CNN (conv32-pool-conv64-
pool-fc128-fc10), Adam 1e-3, 8 epochs. For each seed the plain loop runs for --plain-epochs,
then the fast recipe with each schedule length in --fast-epochs (default: the recipe's own),
interleaved (plain 0, fast 0, plain 1, fast 1, ...) so that the load of a shared machine falls
on both. Clocks count training only (the per-epoch test evaluation is excluded from both), as
wall seconds and as this process's CPU seconds, with the load average before each run.
--threads 0 (the default) keeps torch's default thread count for both loops, as a user
would run them; --threads 1 makes the CPU clock the fair one on a machine shared with other
jobs. Prints one row per run, then the targets:

  1. time for the fast recipe to reach the plain loop's final test accuracy, vs the plain time
  2. time to reach 93.0%, vs the plain loop's time
  3. the best fast accuracy
  A. the recipe's default schedule: mean test accuracy >= 94.0% with every seed >= 93.8%, in
     <= 1.0x the plain loop's mean 8-epoch training time (wall and CPU)

    python benchmarks/bench_fast_recipe.py --seeds 0 1 2 \
        --json-out benchmarks/results/fast-recipe.json

With --jobs N the runs go in N processes at once (wall clocks then include each other's load;
the CPU clock does not). A fast seed with no plain run of its own is compared with the mean of
the plain runs (--plain-seeds).
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from plain_loop import run_plain_loop

from cnnlab.experiments.report import machine
from cnnlab.training import fast
from cnnlab.training.recipes import get_recipe, recipe_config

TARGET_A = {"mean": 0.940, "every_seed": 0.938, "time_ratio": 1.0}


def _threads(threads: int) -> None:
    if threads:
        torch.set_num_threads(threads)


def fast_run(epochs: int, seed: int, folder: Path, threads: int = 0,
             model_options: dict | None = None) -> list[dict]:
    """One fast-recipe run; rows with cumulative wall/CPU training seconds."""
    _threads(threads)
    cfg = recipe_config("fast")
    cfg.epochs, cfg.seed, cfg.quiet, cfg.out = epochs, seed, True, str(folder)
    cfg.threads = threads
    if model_options is not None:
        cfg.model_options = model_options
    result = get_recipe("fast").train_fn(cfg)
    rows, wall, cpu = [], 0.0, 0.0
    for row in result.rows:
        wall, cpu = wall + row["seconds"], cpu + row["cpu_seconds"]
        if "test_acc" in row:  # eval_every > 1 scores some epochs only
            rows.append({"epoch": row["epoch"], "wall": wall, "cpu": cpu, "acc": row["test_acc"]})
    return rows


def plain_run(epochs: int, seed: int, threads: int = 0) -> list[dict]:
    _threads(threads)
    return [{"epoch": r.epoch, "wall": r.train_seconds, "cpu": r.train_cpu_seconds,
             "acc": r.test_acc} for r in run_plain_loop(epochs, seed=seed)]


def first_reaching(runs: list[list[dict]], accuracy: float) -> dict | None:
    """The earliest (by CPU time) epoch row of any run with test accuracy >= accuracy."""
    hits = [row for rows in runs for row in rows if row["acc"] >= accuracy]
    return min(hits, key=lambda r: r["cpu"]) if hits else None


def _spread(values: list[float]) -> str:
    if not values:
        return "n/a"
    mean = statistics.mean(values)
    sd = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{mean:.4g} +- {sd:.2g} (n={len(values)})"


def summarize(results: list[dict]) -> dict:
    """Per-seed target figures and their mean and standard deviation.

    Each fast seed is held to its own plain run's final accuracy and time (the plain runs'
    mean where it has none), and also to the plain runs' mean accuracy and mean time
    (``vs_plain_mean``). The plain figures' spread counts each plain run once."""
    plains = own_plains(results)
    mean_acc = statistics.mean(p["acc"] for p in plains)
    mean_cpu = statistics.mean(p["cpu"] for p in plains)
    per_seed = []
    for res in results:
        plain = res["plain"][-1]
        target = first_reaching(res["fast"], plain["acc"])
        t93 = first_reaching(res["fast"], 0.93)
        to_mean = first_reaching(res["fast"], mean_acc)
        best = max((row for rows in res["fast"] for row in rows), key=lambda r: r["acc"])
        own = res.get("plain_is_own", True)
        per_seed.append({
            "seed": res["seed"], "plain_acc": plain["acc"] if own else None,
            "plain_cpu": plain["cpu"] if own else None,
            "plain_wall": plain["wall"] if own else None,
            "to_plain_acc_cpu_ratio": target["cpu"] / plain["cpu"] if target else None,
            "to_plain_acc_wall_ratio": target["wall"] / plain["wall"] if target else None,
            "to_plain_mean_acc_cpu_ratio_vs_plain_mean": (
                to_mean["cpu"] / mean_cpu if to_mean else None),
            "to_93_cpu_ratio": t93["cpu"] / plain["cpu"] if t93 else None,
            "best_acc": best["acc"], "best_cpu": best["cpu"]})
    keys = [k for k in per_seed[0] if k != "seed"]
    return {"per_seed": per_seed, "target_a": target_a(results), "summary": {
        k: _spread([s[k] for s in per_seed if s[k] is not None]) for k in keys}}


def own_plains(results: list[dict]) -> list[dict]:
    """The final rows of the plain runs, each once (not the mean standing in for a seed
    without a plain run of its own)."""
    return [res["plain"][-1] for res in results if res.get("plain_is_own", True)]


def target_a(results: list[dict]) -> dict:
    """Target A: the recipe's default schedule (its final epoch, every seed) against the plain
    runs' mean final time, on the wall clock and on the CPU clock."""
    default = recipe_config("fast").epochs  # BF16_EPOCHS where bf16 is fast
    finals = [rows[-1] for res in results for rows in res["fast"] if rows[-1]["epoch"] == default]
    if not finals:
        return {"note": f"no fast run of the default {default} epochs"}
    plain = own_plains(results)
    accs = [row["acc"] for row in finals]
    ratios = {clock: statistics.mean(r[clock] for r in finals) /
              statistics.mean(p[clock] for p in plain) for clock in ("wall", "cpu")}
    met = (statistics.mean(accs) >= TARGET_A["mean"] and min(accs) >= TARGET_A["every_seed"]
           and ratios["wall"] <= TARGET_A["time_ratio"])
    return {"epochs": default, "accs": accs, "mean_acc": statistics.mean(accs),
            "min_acc": min(accs), "wall_ratio": ratios["wall"], "cpu_ratio": ratios["cpu"],
            "met_on_wall_clock": met}


def run_one(spec: str, threads: int, model_options: dict | None = None) -> list[dict]:
    """Run ``plain:SEED:EPOCHS`` or ``fast:SEED:EPOCHS`` in this process."""
    kind, seed, epochs = spec.split(":")
    if kind == "plain":
        return plain_run(int(epochs), int(seed), threads)
    with tempfile.TemporaryDirectory(prefix="bench-fast-") as tmp:
        return fast_run(int(epochs), int(seed), Path(tmp) / "run", threads, model_options)


def group_runs(done: dict[str, list[dict]], args: argparse.Namespace) -> list[dict]:
    """Rows of every run (keyed ``kind:seed:epochs``) grouped by fast seed; a seed without a
    plain run of its own is compared with the mean of the plain runs."""
    plain_seeds = args.plain_seeds or args.seeds
    plain_rows = {s: done[f"plain:{s}:{args.plain_epochs}"] for s in plain_seeds}
    first = plain_rows[plain_seeds[0]]
    mean_plain = [{k: statistics.mean(rows[i][k] for rows in plain_rows.values()) for k in row}
                  for i, row in enumerate(first)]
    return [{"seed": s, "plain": plain_rows.get(s, mean_plain), "plain_is_own": s in plain_rows,
             "fast": [done[f"fast:{s}:{e}"] for e in args.fast_epochs]} for s in args.seeds]


def load_runs(folder: Path) -> dict[str, list[dict]]:
    """Runs saved by ``--one KIND:SEED:EPOCHS --json-out FOLDER/KIND-SEED-EPOCHS.json``."""
    return {path.stem.replace("-", ":"): json.loads(path.read_text(encoding="utf-8"))
            for path in sorted(folder.glob("*-*-*.json"))}


def run_all(args: argparse.Namespace) -> list[dict]:
    """Every run of the invocation, each in its own process (--jobs at once), grouped by seed.

    Each process starts its own session: a Linux scheduler with autogroups then gives it the
    share of any other job on the machine instead of splitting one share between our runs.
    """
    plain = [f"plain:{s}:{args.plain_epochs}" for s in args.plain_seeds or args.seeds]
    fasts = [f"fast:{s}:{e}" for s in args.seeds for e in args.fast_epochs]
    specs = [spec for pair in itertools.zip_longest(plain, fasts) for spec in pair if spec]
    done: dict[str, list[dict]] = {}
    loads: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="bench-fast-") as tmp:
        pending, running = list(specs), {}
        while pending or running:
            while pending and len(running) < args.jobs:
                spec = pending.pop(0)
                out = Path(tmp) / f"{spec.replace(':', '-')}.json"
                command = [sys.executable, __file__, "--one", spec, "--threads",
                           str(args.threads), "--json-out", str(out)]
                loads[spec] = round(os.getloadavg()[0], 2)
                running[spec] = (subprocess.Popen(command, start_new_session=True), out)
            for spec, (process, out) in list(running.items()):
                if process.poll() is not None:
                    if process.returncode != 0:
                        raise SystemExit(f"run {spec} failed with status {process.returncode}")
                    done[spec] = json.loads(out.read_text(encoding="utf-8"))
                    done[spec][0]["load_before"] = loads[spec]
                    print(f"{spec}: {done[spec]}", flush=True)
                    del running[spec]
            time.sleep(2)
    return group_runs(done, args)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--plain-epochs", type=int, default=8)
    parser.add_argument("--fast-epochs", type=int, nargs="+",
                        default=[recipe_config("fast").epochs],
                        help="schedules of the fast recipe (default: its own)")
    parser.add_argument("--threads", type=int, default=0,
                        help="torch threads for both loops (0: torch's default)")
    parser.add_argument("--plain-seeds", type=int, nargs="+",
                        help="seeds of the plain loop (default: --seeds); each fast seed is "
                        "compared with the plain runs' mean")
    parser.add_argument("--jobs", type=int, default=1,
                        help="runs at once, one process each (compare CPU seconds then)")
    parser.add_argument("--json-out", type=Path, help="also write every row as JSON here")
    parser.add_argument("--one", metavar="KIND:SEED:EPOCHS",
                        help="run only plain:S:E or fast:S:E, rows to --json-out")
    parser.add_argument("--load", type=Path, metavar="DIR",
                        help="summarize runs saved by --one in DIR/KIND-SEED-EPOCHS.json")
    parser.add_argument("--model-options", type=json.loads,
                        help="fastnet options for --one fast runs, "
                        'e.g. \'{"widths": [16, 32, 64]}\'')
    args = parser.parse_args()
    if args.one:
        rows = run_one(args.one, args.threads, args.model_options)
        args.json_out.write_text(json.dumps(rows), encoding="utf-8")
        return
    results = group_runs(load_runs(args.load), args) if args.load else run_all(args)
    report = {"args": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
              "torch": torch.__version__, "machine": machine(),
              # what the recipe's rule resolves to here: bf16 autocast on CUDA and AMX CPUs
              "fast_amp": fast.resolve(recipe_config("fast").validate()).amp,
              "runs": results, **summarize(results)}
    if args.json_out:
        args.json_out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(json.dumps({key: report[key] for key in ("machine", "fast_amp", "per_seed", "target_a",
                                                   "summary")},
                     indent=2))


if __name__ == "__main__":
    main()
