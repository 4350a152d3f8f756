"""Resumable training state without pickles: tensors in safetensors, the rest in JSON.

  <run>/state/step-000001234/state.safetensors   every tensor (weights, momenta, RNG states)
  <run>/state/step-000001234/state.json          the structure around them, counters, metrics
  <run>/state/step-000001234/rng-rank<R>.*      each process's RNG states (torch, numpy, python)

A state folder is written under a temporary name and renamed when complete, so a folder with a
final name is always whole; the newest ``keep`` are kept. Nested dicts and lists of state_dicts
(optimizer, scheduler, EMA, scaler) are flattened: each tensor becomes ``{"__tensor__": key}``,
and dicts with integer keys (optimizer states) ``{"__int_keys__": [[k, v], ...]}``.
"""

from __future__ import annotations

import json
import os
import random
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors.torch import load_file

from cnnlab.checkpoint import save_tensors
from cnnlab.errors import CnnlabError
from cnnlab.fileio import write_json

STATE_DIR = "state"


def flatten(tree: Any, tensors: dict[str, torch.Tensor], prefix: str = "t") -> Any:
    """JSON-ready copy of ``tree`` whose tensors are moved into ``tensors`` under new keys."""
    if isinstance(tree, torch.Tensor):
        key = f"{prefix}.{len(tensors)}"
        tensors[key] = tree.detach().to("cpu").clone().contiguous()
        return {"__tensor__": key}
    if isinstance(tree, dict):
        if all(isinstance(k, str) for k in tree):
            return {k: flatten(v, tensors, prefix) for k, v in tree.items()}
        return {"__int_keys__": [[int(k), flatten(v, tensors, prefix)] for k, v in tree.items()]}
    if isinstance(tree, list | tuple):
        return [flatten(v, tensors, prefix) for v in tree]
    if tree is None or isinstance(tree, bool | int | float | str):
        return tree
    raise TypeError(f"cannot store {type(tree).__name__} in a training state")


def unflatten(tree: Any, tensors: dict[str, torch.Tensor]) -> Any:
    """Inverse of ``flatten``."""
    if isinstance(tree, dict):
        if set(tree) == {"__tensor__"}:
            return tensors[tree["__tensor__"]]
        if set(tree) == {"__int_keys__"}:
            return {k: unflatten(v, tensors) for k, v in tree["__int_keys__"]}
        return {k: unflatten(v, tensors) for k, v in tree.items()}
    if isinstance(tree, list):
        return [unflatten(v, tensors) for v in tree]
    return tree


def rng_states() -> dict[str, Any]:
    """This process's torch (CPU and CUDA), NumPy and Python RNG states."""
    np_state = np.random.get_state()
    state = {
        "torch": torch.get_rng_state(),
        "numpy": {"name": np_state[0], "keys": torch.from_numpy(np_state[1].astype(np.int64)),
                  "pos": int(np_state[2]), "has_gauss": int(np_state[3]),
                  "cached_gaussian": float(np_state[4])},
        "python": [random.getstate()[0], list(random.getstate()[1]), random.getstate()[2]],
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_states(state: dict[str, Any]) -> None:
    """Restore what ``rng_states`` returned."""
    torch.set_rng_state(state["torch"])
    numpy = state["numpy"]
    np.random.set_state((numpy["name"], numpy["keys"].numpy().astype(np.uint32), numpy["pos"],
                         numpy["has_gauss"], numpy["cached_gaussian"]))
    version, internal, gauss = state["python"]
    random.setstate((version, tuple(internal), gauss))
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def match_layouts(optimizer: torch.optim.Optimizer) -> None:
    """Give each loaded per-parameter optimizer tensor (momentum, Adam moments) its parameter's
    memory layout. State files store tensors contiguous, and fused optimizer kernels read a
    buffer in its parameter's layout: a channels_last weight with a contiguous momentum buffer
    would mix up elements."""
    for param, state in optimizer.state.items():
        for key, value in state.items():
            if isinstance(value, torch.Tensor) and value.shape == param.shape:
                state[key] = torch.empty_like(param, dtype=value.dtype).copy_(value)


def _save_tree(folder: Path, stem: str, tree: dict[str, Any]) -> None:
    tensors: dict[str, torch.Tensor] = {}
    structure = flatten(tree, tensors)
    save_tensors(tensors, folder / f"{stem}.safetensors")
    (folder / f"{stem}.json").write_text(json.dumps(structure), encoding="utf-8")


def _load_tree(folder: Path, stem: str) -> dict[str, Any]:
    try:
        tensors = load_file(str(folder / f"{stem}.safetensors"))
        structure = json.loads((folder / f"{stem}.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise CnnlabError(f"{folder}: unreadable training state ({err})") from None
    return unflatten(structure, tensors)


def state_path(run: Path, step: int) -> Path:
    """Where the complete state after global step ``step`` lives."""
    return run / STATE_DIR / f"step-{step:09d}"


def staging_dir(run: Path, step: int) -> Path:
    """The temporary folder a state is written into before it is renamed into place."""
    return run / STATE_DIR / f".tmp-step-{step:09d}"


def publish_state(run: Path, step: int, tree: dict[str, Any], rngs: list[dict[str, Any]],
                  keep: int) -> Path:
    """Write the shared state and every rank's RNG states (``rngs[r]`` of rank r) into a
    staging folder, rename it into place, and delete all but the newest ``keep`` states.

    Called by the main rank only: under torchrun the other ranks send their RNG states to it,
    so no other process writes into the run folder."""
    folder = staging_dir(run, step)
    if folder.exists():  # left by a process killed while writing it
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    _save_tree(folder, "state", tree)
    for rank, rng in enumerate(rngs):
        _save_tree(folder, f"rng-rank{rank}", rng)
    for path in folder.iterdir():
        with open(path, "rb") as handle:
            os.fsync(handle.fileno())
    final = state_path(run, step)
    if final.exists():
        shutil.rmtree(final)
    os.replace(folder, final)
    for old in list_states(run)[:-keep]:
        shutil.rmtree(old, ignore_errors=True)
    write_json(run / STATE_DIR / "latest.json", {"step": step, "folder": final.name})
    return final


def discard_staging(run: Path, step: int) -> None:
    """Remove a staging folder a failed save left behind (its space is wanted back)."""
    shutil.rmtree(staging_dir(run, step), ignore_errors=True)


def list_states(run: str | Path) -> list[Path]:
    """Complete state folders of a run, oldest first."""
    folder = Path(run) / STATE_DIR
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.glob("step-*") if p.is_dir())


def load_state(folder: Path, rank: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """(shared state, this rank's RNG states) of one state folder."""
    rng_stem = f"rng-rank{rank}"
    if not (folder / f"{rng_stem}.json").is_file():
        raise CnnlabError(f"{folder}: no RNG state for rank {rank}; resume with the number of "
                          "processes the run was started with")
    return _load_tree(folder, "state"), _load_tree(folder, rng_stem)
