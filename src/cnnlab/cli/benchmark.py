"""``cnnlab benchmark infer``: latency and throughput of a model under each inference backend."""

from __future__ import annotations

import statistics
from typing import Annotated

import torch
import typer
from rich.table import Table

from cnnlab.cli.common import console, print_json
from cnnlab.inference.backends import (
    BACKENDS,
    auto_choice,
    check_backend,
    installed_backends,
    load_backend,
    measure_latency,
)
from cnnlab.runs import resolve_model

benchmark_app = typer.Typer(help="Measure speed: `cnnlab benchmark infer MODEL`.",
                            no_args_is_help=True)


@benchmark_app.command("infer")
def infer_command(
    model: Annotated[str, typer.Argument(help="A run folder, or a model name (random weights).")],
    batch: Annotated[int, typer.Option(min=1, help="Images per call.")] = 1,
    backend: Annotated[list[str] | None, typer.Option(
        help=f"auto, {', '.join(BACKENDS)} (repeatable; default: all installed).")] = None,
    repeats: Annotated[int, typer.Option(min=1, help="Timed calls per backend.")] = 10,
    warmup: Annotated[int, typer.Option(min=0, help="Untimed calls first.")] = 3,
    threads: Annotated[int, typer.Option(min=0, help="CPU threads (0: torch's default).")] = 0,
    json_output: Annotated[bool, typer.Option("--json", help="Print JSON only.")] = False,
) -> None:
    """Median milliseconds per batch and images/s for each backend, and the ratio to eager;
    the default (auto: the fastest runtime for this model and batch, timed on first use and
    remembered) is marked."""
    names = [check_backend(b) for b in backend] if backend else list(installed_backends())
    if threads:
        torch.set_num_threads(threads)
    torch.manual_seed(0)  # random weights of a zoo name are the same each call (ONNX cache)
    net, meta = resolve_model(model)
    choice = auto_choice(net.eval().cpu(), meta["input_size"], batch)
    x = torch.randn(batch, *meta["input_size"], generator=torch.Generator().manual_seed(0))
    rows = []
    for name in dict.fromkeys(choice.name if n == "auto" else n for n in names):
        runner = load_backend(name, net, meta["input_size"])
        seconds = statistics.median(measure_latency(runner, x, warmup, repeats))
        rows.append({"backend": name, "default": name == choice.name,
                     "ms_per_batch": 1e3 * seconds, "images_per_s": batch / seconds})
    eager = next((r["ms_per_batch"] for r in rows if r["backend"] == "eager"), None)
    for row in rows:
        row["speedup_vs_eager"] = eager / row["ms_per_batch"] if eager else None
    result = {"model": meta["model"], "batch": batch, "input_size": meta["input_size"],
              "threads": torch.get_num_threads(), "repeats": repeats, "backends": rows,
              "auto": {"backend": choice.name, "timed_ms_per_call": choice.ms_per_call,
                       "remembered": choice.cached}}
    if json_output:
        print_json(result)
        return
    _print_table(result)


def _print_table(result: dict) -> None:
    table = Table(title=f"{result['model']}, batch {result['batch']}, "
                        f"{result['threads']} threads (median of {result['repeats']})")
    for column in ("backend", "ms/batch", "images/s", "vs eager"):
        table.add_column(column, justify="left" if column == "backend" else "right")
    for row in result["backends"]:
        ratio = row["speedup_vs_eager"]
        table.add_row(row["backend"] + (" (default: auto)" if row["default"] else ""),
                      f"{row['ms_per_batch']:.2f}", f"{row['images_per_s']:,.1f}",
                      f"{ratio:.2f}x" if ratio else "-")
    console.print(table)
    auto = result["auto"]
    timed = ", ".join(f"{n} {ms:.2f} ms" for n, ms in auto["timed_ms_per_call"].items())
    console.print(f"auto = {auto['backend']}" + (f" (timed per call: {timed}"
                  f"{'; remembered from an earlier call' if auto['remembered'] else ''})"
                  if timed else " (the only runtime installed)"))


def register(app: typer.Typer) -> None:
    app.add_typer(benchmark_app, name="benchmark")
