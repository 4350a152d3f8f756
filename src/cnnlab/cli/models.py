"""``cnnlab models``: the zoo as a table, or one model's details and layer summary."""

from __future__ import annotations

from typing import Annotated

import torch
import typer
from rich.table import Table

from cnnlab.cli.common import console, print_json
from cnnlab.models import get_model, list_models, model_info
from cnnlab.models.torchvision_weights import PretrainedWeights, available_weights


def _param_count(module) -> int:
    return sum(p.numel() for p in module.parameters())


def _details(name: str, json_output: bool) -> None:
    info = model_info(name)
    with torch.device("meta"):
        model = get_model(name)
    record = {"name": info.name, "full_name": info.full_name, "family": info.family,
              "variant": info.variant, "paper": vars(info.paper),
              "input_size": list(info.input_size), "num_classes": info.num_classes,
              "dataset": info.dataset, "reported": info.reported,
              "torchvision": info.torchvision, "timm": info.timm,
              "deviations": info.deviations, "parameters": _param_count(model),
              "layers": [{"name": n, "type": type(m).__name__, "parameters": _param_count(m)}
                         for n, m in model.named_children()],
              "pretrained": [w.to_dict() for w in available_weights(name)]}
    if json_output:
        print_json(record)
        return
    p = info.paper
    console.print(f"[bold]{info.name}[/bold]: {info.full_name}")
    console.print(f"paper: {p.authors} ({p.year}), \"{p.title}\" {p.url}")
    console.print(f"variant: {info.variant}")
    if info.deviations:
        console.print(f"deviations: {info.deviations}")
    console.print(f"input {'x'.join(map(str, info.input_size))}, {info.num_classes} classes "
                  f"({info.dataset}); {record['parameters']:,} parameters")
    if info.reported:
        console.print("reported: " + ", ".join(f"{k} {v}" for k, v in info.reported.items()))
    table = Table(title="Layers (top level)")
    for col in ("name", "type", "parameters"):
        table.add_column(col, justify="right" if col == "parameters" else "left")
    for layer in record["layers"]:
        table.add_row(layer["name"], layer["type"], f"{layer['parameters']:,}")
    console.print(table)
    _print_pretrained(available_weights(name), info)


def _cell(value: float | None, digits: int = 2) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def _print_pretrained(found: list[PretrainedWeights], info) -> None:
    if not found:
        source = f"timm's {info.timm} (a file for --weights)" if info.timm else "none published"
        console.print(f"pretrained weights: {source}")
        return
    table = Table(title=f"Pretrained weights (torchvision's {info.torchvision}; --weights NAME, "
                        "or --weights torchvision for the default)",
                  caption="acc@1 / acc@5: torchvision's published ImageNet-1K val accuracy at "
                          "its eval transform (resize, then center crop)")
    for col in ("weights", "acc@1", "acc@5", "resize/crop", "GFLOPS", "MB", "cached", "recipe"):
        table.add_column(col, justify="left" if col in ("weights", "recipe") else "right")
    for w in found:
        table.add_row(w.name + (" (default)" if w.default else ""), _cell(w.acc1),
                      _cell(w.acc5), f"{w.resize}/{w.crop}", _cell(w.gflops),
                      _cell(w.file_mb, 1), "yes" if w.cache_path.is_file() else "no", w.recipe)
    console.print(table)
    for w in found:
        if w.notes:
            console.print(f"{w.name}: {w.notes}")


def models_command(
    name: Annotated[str | None, typer.Argument(help="Show one model in detail.")] = None,
    pattern: Annotated[str | None, typer.Option(help="Shell glob, e.g. 'resnet*'.")] = None,
    json_output: Annotated[bool, typer.Option("--json", help="Print JSON only.")] = False,
) -> None:
    """List the registered models with their papers, or describe NAME."""
    if name is not None:
        _details(name, json_output)
        return
    rows = [model_info(n) for n in list_models(pattern)]
    if json_output:
        print_json([{"name": i.name, "full_name": i.full_name, "paper": vars(i.paper),
                     "input_size": list(i.input_size), "reported": i.reported} for i in rows])
        return
    table = Table(title=f"cnnlab models ({len(rows)})")
    for col in ("name", "model", "paper", "input", "reported"):
        table.add_column(col)
    for i in rows:
        reported = ", ".join(f"{k} {v}" for k, v in i.reported.items())
        table.add_row(i.name, i.full_name, f"{i.paper.authors.split(',')[0]} {i.paper.year}",
                      "x".join(map(str, i.input_size)), reported)
    console.print(table)


def register(app: typer.Typer) -> None:
    app.command("models")(models_command)
