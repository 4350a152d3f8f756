"""Inference speed of each cnnlab backend against torchvision eager, each in its own process.

The peer is what a PyTorch user writes: torchvision's model (resnet50, googlenet) in eval mode
under torch.no_grad, NCHW float32; fastnet has no torchvision twin, so its peer is cnnlab's
model run the same way. Our rows are the registry model (random weights, seed 0) run by each
backend of cnnlab.inference.backends, plus OpenVINO with the bf16 precision hint, reported
apart with its top-1 agreement with OpenVINO f32. Every (runner, model, batch) is timed in a
fresh process (so one runner's threads, caches or compiler workers cannot slow the next), in
interleaved rounds (runner order reversed every other round). Each figure is the median of
--repeats calls after --warmup untimed ones, wall clock, and the median over rounds.

    python benchmarks/bench_inference.py --model resnet50 googlenet fastnet --batch 1 16
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import torch
import torchvision

from cnnlab.fileio import write_text
from cnnlab.inference.backends import (
    BACKENDS,
    OvBackend,
    auto_candidates,
    auto_choice,
    installed_backends,
    load_backend,
    measure_latency,
)
from cnnlab.models import get_model, model_info

PEER, BF16, AUTO = "torchvision eager (peer)", "openvino bf16 hint", "auto"
OUT = Path(__file__).resolve().parent / "results" / "inference.md"


def _peer(name: str) -> tuple[torch.nn.Module, str]:
    twin = model_info(name).torchvision
    if twin:
        options = {"aux_logits": False, "init_weights": False} if name == "googlenet" else {}
        return torchvision.models.get_model(twin, weights=None, **options).eval(), twin
    torch.manual_seed(0)
    return get_model(name).eval(), f"cnnlab {name}"


def build(runner: str, name: str, batch: int):
    """The callable that ``runner`` times, and extra facts to report."""
    torch.manual_seed(0)  # the same random weights in every process: one cached ONNX export
    model, size = get_model(name).eval(), model_info(name).input_size
    if runner == PEER:
        peer, what = _peer(name)

        def run_peer(images: torch.Tensor) -> torch.Tensor:
            with torch.no_grad():
                return peer(images)

        return run_peer, {"peer": what}
    if runner == AUTO:  # timed afresh in every process, as on a first call
        choice = auto_choice(model, size, batch, use_cache=False)
        return load_backend(choice.name, model, size), {
            "chose": choice.name, "timed_ms_per_call": choice.ms_per_call}
    if runner == BF16:
        backend = OvBackend(model, size, precision="bf16")
        from cnnlab.inference.openvino_runtime import execution_precision

        return backend, {"runs_in": execution_precision(backend.compiled)}
    return load_backend(runner, model, size), {}


def child(runner: str, name: str, batch: int, warmup: int, repeats: int) -> dict:
    """Time one runner in this process (wall and this process's CPU clock); OpenVINO's
    runners also give the top-1 classes of 32 fixed random images, for the bf16 agreement."""
    size = model_info(name).input_size
    fn, facts = build(runner, name, batch)
    x = torch.randn(batch, *size, generator=torch.Generator().manual_seed(0))
    measure_latency(fn, x, warmup, 0)
    wall, cpu = [], []
    for _ in range(repeats):
        start, start_cpu = time.perf_counter(), time.process_time()
        fn(x)
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    if runner in ("openvino", BF16):
        check = torch.randn(32, *size, generator=torch.Generator().manual_seed(1))
        facts["top1"] = torch.cat([fn(part).argmax(1) for part in check.split(16)]).tolist()
    return {"wall_ms": 1e3 * statistics.median(wall), "cpu_ms": 1e3 * statistics.median(cpu),
            **facts}


def run_child(runner: str, name: str, args: argparse.Namespace, batch: int) -> dict:
    command = [sys.executable, __file__, "--child", runner, "--model", name, "--batch",
               str(batch), "--warmup", str(args.warmup), "--repeats", str(args.repeats),
               "--threads", str(args.threads)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode:
        raise SystemExit(f"{runner} {name} batch {batch} failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def runners(skip: list[str]) -> list[str]:
    extra = [BF16] if "openvino" in installed_backends() else []
    auto = [AUTO] if len(auto_candidates()) > 1 else []
    return [r for r in [PEER, *installed_backends(), *extra, *auto] if r not in skip]


def measure(args: argparse.Namespace, done: Callable[[dict], None]) -> dict:
    """(model, batch) -> runner -> list of per-round results; ``done`` after each cell."""
    results: dict = {}
    names = runners(args.skip)
    for name in args.model:
        for batch in args.batch:
            cell = results.setdefault((name, batch), {r: [] for r in names})
            for round_ in range(args.rounds):
                for runner in names if round_ % 2 == 0 else names[::-1]:
                    row = run_child(runner, name, args, batch)
                    cell[runner].append(row)
                    print(f"{name} batch {batch} round {round_} {runner}: {row['wall_ms']:.2f} "
                          f"ms wall, {row['cpu_ms']:.2f} ms CPU", flush=True)
            done(results)
    return results


CLOCK = "cpu_ms"  # set by main from --clock


def _median(rows: list[dict]) -> float:
    return statistics.median(r[CLOCK] for r in rows)


def cell_table(name: str, batch: int, cell: dict) -> tuple[list[str], dict]:
    """Markdown rows of one (model, batch) and its target checks."""
    peer = _median(cell[PEER])
    fp32 = {r: _median(rows) for r, rows in cell.items() if r not in (PEER, BF16, AUTO)}
    # what auto chose in most of its processes (it times the candidates afresh in each)
    chosen = [r["chose"] for r in cell.get(AUTO, [])]
    auto = max(set(chosen), key=chosen.count) if chosen else auto_candidates()[0]
    fastest = min(fp32.values())
    lines = [f"### {name}, batch {batch}", "",
             f"Peer: {cell[PEER][0]['peer']} (torch.no_grad, NCHW float32).", "",
             ("| runner | ms/batch (median of rounds) | range | images/s | vs peer | "
             "vs fastest fp32 backend |"), "|---|---:|---:|---:|---:|---:|"]
    for runner, rows in cell.items():
        ms = _median(rows)
        walls = [r[CLOCK] for r in rows]
        mark = " **(auto)**" if runner == auto else ""
        if runner == AUTO:
            mark = f" (chose {', '.join(r['chose'] for r in rows)})"
        lines.append(f"| {runner}{mark} | {ms:.2f} | {min(walls):.2f}-{max(walls):.2f} | "
                     f"{1e3 * batch / ms:.1f} | {peer / ms:.2f}x | "
                     f"{fastest / ms:.2f}x |")
    checks = {"model": name, "batch": batch, "auto": auto,
              "auto_vs_fastest": fastest / fp32[auto],
              "auto_row_vs_fastest": fastest / _median(cell[AUTO]) if AUTO in cell else None,
              "fastest": min(fp32, key=fp32.get), "auto_vs_peer": peer / fp32[auto]}
    if BF16 in cell:
        f32_top = cell["openvino"][0]["top1"]
        bf_top = cell[BF16][0]["top1"]
        checks["bf16"] = {"runs_in": cell[BF16][0]["runs_in"], "ms": _median(cell[BF16]),
                          "f32_ms": fp32["openvino"],
                          "agreement": sum(a == b for a, b in zip(f32_top, bf_top,
                                                                  strict=True)) / len(f32_top)}
    return lines + [""], checks


def versions() -> str:
    import onnxruntime

    parts = [f"Python {platform.python_version()}", f"torch {torch.__version__}",
             f"torchvision {torchvision.__version__}", f"onnxruntime {onnxruntime.__version__}"]
    if "openvino" in installed_backends():
        import openvino

        parts.append(f"openvino {openvino.__version__.split('-')[0]}")
    return ", ".join(parts)


def machine() -> str:
    lscpu = subprocess.run(["lscpu"], check=False, capture_output=True, text=True).stdout
    fields = dict(line.split(":", 1) for line in lscpu.splitlines() if ":" in line)
    simd = [f for f in fields.get("Flags", "").split() if f.startswith(("avx", "amx"))]
    return (f"`lscpu` model name: {fields.get('Model name', '?').strip()}; {os.cpu_count()} "
            f"CPUs; AVX/AMX flags: {' '.join(simd) or 'none'}")


def target_lines(checks: list[dict]) -> list[str]:
    lines = ["## Targets", "", ("| model | batch | fastest fp32 backend | auto | auto vs "
             "fastest | auto's own row vs fastest | auto vs torchvision eager |"),
             "|---|---:|---|---|---:|---:|---:|"]
    for c in checks:
        own = c.get("auto_row_vs_fastest")
        lines.append(f"| {c['model']} | {c['batch']} | {c['fastest']} | {c['auto']} | "
                     f"{c['auto_vs_fastest']:.3f}x | {f'{own:.3f}x' if own else '-'} | "
                     f"{c['auto_vs_peer']:.2f}x |")
    within = all(c["auto_vs_fastest"] >= 0.95 for c in checks)
    own_within = all((c.get("auto_row_vs_fastest") or 0) >= 0.95 for c in checks)
    resnet = [c for c in checks if c["model"] == "resnet50"]
    fast = ("yes" if all(c["auto_vs_peer"] >= 1.5 for c in resnet) else "no") if resnet \
        else "not measured (no resnet50 in this run)"
    lines += ["", (f"- auto (the backend it chose most often, by that backend's own row) within "
              f"5% of the fastest fp32 backend everywhere: **{'yes' if within else 'no'}**"),
              (f"- auto's own row (a process that timed the candidates and ran its choice) "
               f"within 5% of the fastest fp32 row everywhere: "
               f"**{'yes' if own_within else 'no'}**"),
              (f"- auto >= 1.5x torchvision's resnet50 eager at every batch: "
              f"**{fast}**"), ""]
    bf16 = [c for c in checks if "bf16" in c]
    if bf16:
        lines += ["## OpenVINO with the bf16 precision hint (not part of the fp32 comparison)", "",
                  ("| model | batch | runs in | ms/batch | vs openvino f32 | top-1 agreement "
                  "with f32 (32 random images) |"), "|---|---:|---|---:|---:|---:|"]
        for c in bf16:
            b = c["bf16"]
            lines.append(f"| {c['model']} | {c['batch']} | {b['runs_in']} | {b['ms']:.2f} | "
                         f"{b['f32_ms'] / b['ms']:.2f}x | {100 * b['agreement']:.1f}% |")
        lines.append("")
    return lines


def report(args: argparse.Namespace, results: dict, when: tuple[str, str, str]) -> str:
    tables, checks = [], []
    for (name, batch), cell in results.items():
        lines, check = cell_table(name, batch, cell)
        tables += lines
        checks.append(check)
    head = [
        (f"# Inference backends: {', '.join(args.model)} at batch "
         f"{' and '.join(map(str, args.batch))} (issue 17)"), "",
        (f"Machine: {machine()}. {versions()}. Torch threads: "
        f"{args.threads or torch.get_num_threads()} (ONNX Runtime and OpenVINO get as many)."),
        "",
        (f"Measured {when[0]}, load average (1, 5, 15 min) {when[1]} before and {when[2]} "
        "after (the benchmark's own runners make up to about 2 on 2 cores; more means other "
        "jobs). Each (runner, model, "
        "batch) ran in its own process; the runners alternate order between rounds so the load "
        "hits all of them."), "",
        "Command:", "",
        (f"    python benchmarks/bench_inference.py --model {' '.join(args.model)} --batch "
        f"{' '.join(map(str, args.batch))} --rounds {args.rounds} --warmup {args.warmup} "
        f"--repeats {args.repeats} --threads {args.threads} --clock {args.clock}"
        + "".join(f" --skip {r}" for r in args.skip)), "",
        (f"Figures: the {'CPU' if args.clock == 'cpu' else 'wall'} clock"
         + (" (time.process_time of the runner's process: the steadier figure when other jobs "
            "share the cores; with one thread it is the work done)" if args.clock == "cpu"
            else "") + "."),
        (f"Not run: {', '.join(args.skip)}." if args.skip else ""), "",
        ("Caveats. " + ("One round only, so no runner was measured twice and the order did "
                        "not alternate; " if args.rounds == 1 else "")
         + f"{args.repeats} timed calls per process. The top-1 agreement uses "
         "random weights, whose predictions are nearly constant, so it is a weak check; on "
         "a CPU without bf16 units OpenVINO runs f32 whatever the hint (the 'runs in' "
         "column), and the bf16 rows only show the spread of the timings."), "",
        ("`auto` times " + ", ".join(auto_candidates()) + " on the model at the batch size "
         "in use and takes the faster (cnnlab.inference.autotune); its row here is a process "
         "that did so afresh (its choice in brackets), then ran its choice. The targets compare "
         "the backend it chose most often, by that backend's own row, with the fastest fp32 "
         "row. All backends here: "
        f"{', '.join(installed_backends())} (known: {', '.join(BACKENDS)})."), ""]
    return "\n".join(head + tables + target_lines(checks)) + "\n"


def _load() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", nargs="+", default=["resnet50", "googlenet", "fastnet"])
    parser.add_argument("--batch", type=int, nargs="+", default=[1, 16])
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: default)")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--clock", choices=("cpu", "wall"), default="cpu",
                        help="which figure the tables and targets use")
    parser.add_argument("--skip", action="append", default=[], help="a runner not to run")
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--render", type=Path, help="rewrite the report from a results JSON")
    args = parser.parse_args()
    global CLOCK
    CLOCK = f"{args.clock}_ms"
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.child:
        print(json.dumps(child(args.child, args.model[0], args.batch[0], args.warmup,
                               args.repeats)))
        return
    if args.render:
        saved = json.loads(args.render.read_text())
        CLOCK = f"{saved['args']['clock']}_ms"  # the clock the run reported
        write_text(args.out, report(argparse.Namespace(**saved["args"]), _cells(saved["rows"]),
                                    tuple(saved["when"])))
        return
    start, before = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), _load()
    measure(args, lambda results: save(args, results, (start, before, _load())))
    print(f"wrote {args.out}")


def save(args: argparse.Namespace, results: dict, when: tuple[str, str, str]) -> None:
    """The report, and every measurement as JSON beside it (``--render`` reads it back)."""
    rows = [{"model": name, "batch": batch, "runner": runner, **row}
            for (name, batch), cell in results.items() for runner, got in cell.items()
            for row in got]
    kept = {k: v for k, v in vars(args).items() if k not in ("out", "child", "render")}
    write_text(args.out.with_suffix(".json"), json.dumps(
        {"args": kept, "when": list(when), "rows": rows}, indent=1) + "\n")
    write_text(args.out, report(args, results, when))


def _cells(rows: list[dict]) -> dict:
    results: dict = {}
    for row in rows:
        cell = results.setdefault((row["model"], row["batch"]), {})
        cell.setdefault(row["runner"], []).append(
            {k: v for k, v in row.items() if k not in ("model", "batch", "runner")})
    return results


if __name__ == "__main__":
    main()
