"""``cnnlab train``: train a model from a named recipe and write a run folder.

Where values come from, later wins: the recipe (``--recipe``, default ``fashion-mnist``), the
YAML file (``--config``), ``--set KEY=VALUE`` pairs, then the dedicated flags.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Annotated, Any

import typer
import yaml

from cnnlab.cli.common import print_json
from cnnlab.errors import CnnlabError
from cnnlab.training import recipes
from cnnlab.training import train as standard_train
from cnnlab.training.config import TrainConfig, load_run_config, read_yaml_overrides
from cnnlab.training.distributed import launch_local
from cnnlab.training.recipes import recipe_config
from cnnlab.training.runfolder import check_before_launch, default_out


def _parse_sets(pairs: list[str]) -> dict[str, Any]:
    overrides = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise CnnlabError(f"--set {pair!r}: expected KEY=VALUE")
        overrides[key] = yaml.safe_load(value)  # "0.1" -> float, "[1, 2]" -> list, "null" -> None
    return overrides


def build_config(recipe: str, config: str | None, sets: list[str],
                 flags: dict[str, Any]) -> TrainConfig:
    """Recipe defaults, then the YAML file, then ``--set`` pairs, then explicit flags."""
    cfg = recipe_config(recipe)
    if config:
        cfg = cfg.replace(read_yaml_overrides(config), source=config)
    cfg = cfg.replace(_parse_sets(sets), source="--set")
    return cfg.replace({k: v for k, v in flags.items() if v is not None}, source="flags")


def train_command(
    model: Annotated[str | None, typer.Option(help="Registry name (`cnnlab models`).")] = None,
    weights: Annotated[str | None, typer.Option(
        help="Initial weights to fine-tune (a head of another size starts fresh): a "
        ".pth/.safetensors file, `torchvision` or a torchvision weights name.")] = None,
    recipe: Annotated[str, typer.Option(help="Named recipe (`cnnlab train --list-recipes`).")]
    = "fashion-mnist",
    config: Annotated[str | None, typer.Option(help="YAML file of config overrides.")] = None,
    set_: Annotated[list[str] | None, typer.Option(
        "--set", help="KEY=VALUE config override (repeatable; YAML values).")] = None,
    epochs: Annotated[int | None, typer.Option(help="Passes over the training set.")] = None,
    batch_size: Annotated[int | None, typer.Option(help="Images per step (all processes).")]
    = None,
    lr: Annotated[float | None, typer.Option(help="Peak learning rate.")] = None,
    seed: Annotated[int | None, typer.Option(help="Seed for init, order and augmentation.")] = None,
    device: Annotated[str | None, typer.Option(help="auto, cpu or cuda[:N].")] = None,
    out: Annotated[str | None, typer.Option(
        help="Run folder (default runs/MODEL-TIME); one that holds a run is refused.")] = None,
    overwrite: Annotated[bool, typer.Option(
        help="Delete the run already in --out first (the files are named).")] = False,
    dataset: Annotated[str | None, typer.Option(help="fashion-mnist, cifar10, cifar100, "
                                                "imagefolder or imagenet.")] = None,
    data_dir: Annotated[str | None, typer.Option(help="Folder with the dataset files.")] = None,
    train_subset: Annotated[int | None, typer.Option(help="Use the first N training images.")]
    = None,
    test_subset: Annotated[int | None, typer.Option(help="Use the first N test images.")] = None,
    threads: Annotated[int | None, typer.Option(help="CPU threads (0: torch's default).")] = None,
    quiet: Annotated[bool, typer.Option(help="No progress bar or summary.")] = False,
    resume: Annotated[str | None, typer.Option(help="Continue the run in this folder.")] = None,
    nproc: Annotated[int | None, typer.Option(
        help="Processes on this machine (DDP via torchrun; CPU: gloo).")] = None,
    max_restarts: Annotated[int, typer.Option(
        help="With --nproc: torchrun restarts after a process dies (resume).")] = 0,
    list_recipes: Annotated[bool, typer.Option(help="List the recipes and exit.")] = False,
    json_output: Annotated[bool, typer.Option(
        "--json", help="Print only a JSON summary (implies --quiet).")] = False,
) -> None:
    """Train a model (default: the small CNN on Fashion-MNIST) and write a run folder."""
    if list_recipes:
        for name in recipes.list_recipes():
            print(f"{name:20s} {recipes.get_recipe(name).description}")
        return
    flags = {"model": model, "weights": weights, "epochs": epochs, "batch_size": batch_size,
             "lr": lr, "seed": seed,
             "device": device, "out": out, "dataset": dataset, "data_dir": data_dir,
             "train_subset": train_subset, "test_subset": test_subset, "threads": threads,
             "quiet": quiet or json_output or None, "overwrite": overwrite or None}
    if resume and overwrite:
        raise CnnlabError("--resume continues the run in its folder; --overwrite would delete "
                          "it: use one of them")
    if resume:
        cfg = load_run_config(resume).replace(
            {k: v for k, v in flags.items() if v is not None and k != "out"}, source="flags")
        cfg.out = resume
    else:
        cfg = build_config(recipe, config, set_ or [], flags)
    if nproc is not None:
        raise typer.Exit(_launch(cfg, nproc, max_restarts, resume is not None))
    train_fn = recipes.get_recipe(cfg.recipe).train_fn
    if train_fn is None or resume:  # a saved config already has the recipe's rules applied
        result = standard_train(cfg, resume=resume is not None)
    else:
        result = train_fn(cfg)
    if int(os.environ.get("RANK", "0")) != 0:  # other processes of a torchrun launch
        return
    last = result.rows[-1]
    if json_output:
        print_json({"run_folder": str(result.out), "train_seconds": result.train_seconds,
                    "last_epoch": last, "epochs": len(result.rows)})
        return
    print(f"run folder: {result.out}  test accuracy {last['test_acc']:.2%} after "
          f"{result.train_seconds:.0f}s of training")


def _launch(cfg: TrainConfig, nproc: int, max_restarts: int, resume: bool) -> int:
    """Rerun this command under torchrun with the resolved config in a YAML file."""
    if cfg.in_memory:
        raise CnnlabError("in_memory runs in one process; set in_memory=false for --nproc")
    cfg.out = cfg.out or str(default_out(cfg.model))
    check_before_launch(Path(cfg.out), resume=resume, overwrite=cfg.overwrite)
    if resume:
        return launch_local(nproc, ["train", "--resume", cfg.out], max_restarts)
    with tempfile.NamedTemporaryFile("w", suffix=".yaml") as handle:
        yaml.safe_dump(cfg.to_dict(), handle)
        handle.flush()
        return launch_local(nproc, ["train", "--recipe", cfg.recipe, "--config", handle.name],
                            max_restarts)


def register(app: typer.Typer) -> None:
    app.command("train")(train_command)
