"""The run folders the studio may show: direct children of the ``--runs`` folder, named by id.

The page sends a run's id (its folder name), never a path; this module is the one place an id
becomes a path, so traversal is refused here for every route that reads a run.
"""

from __future__ import annotations

import re
from pathlib import Path

from cnnlab.studio.http import ApiError

# Folder names cnnlab writes (model-date-time, experiment arms): letters, digits, . _ - only,
# never starting with a dot, so "..", hidden folders and separators cannot be named.
_RUN_ID = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]{0,199}")
RUN_MARKERS = ("config.json", "checkpoint.json")  # a folder holding either is a run


def is_run(folder: Path) -> bool:
    """True when ``folder`` looks like a cnnlab training run (a config or a checkpoint)."""
    return folder.is_dir() and any((folder / name).is_file() for name in RUN_MARKERS)


def list_runs(runs_dir: Path) -> list[str]:
    """The ids of the run folders directly inside ``runs_dir``, sorted; [] when it is absent.
    Symbolic links are skipped: they could point outside the folder the user named."""
    if not runs_dir.is_dir():
        return []
    return sorted(child.name for child in runs_dir.iterdir()
                  if _RUN_ID.fullmatch(child.name) and not child.is_symlink() and is_run(child))


def resolve_run(runs_dir: Path, run_id: str) -> Path:
    """The folder of run ``run_id``: a direct child of ``runs_dir`` that is a run, else an
    ``ApiError`` (400 for an id that could name anything else, 404 for no such run)."""
    if not isinstance(run_id, str) or not _RUN_ID.fullmatch(run_id):
        raise ApiError(400, f"{str(run_id)[:80]!r} is not a run id: a run is named by its "
                            f"folder name inside the studio's --runs folder")
    folder = runs_dir / run_id
    if folder.is_symlink() or not is_run(folder):
        raise ApiError(404, f"no run {run_id!r} in the studio's --runs folder")
    if folder.resolve().parent != runs_dir.resolve():
        raise ApiError(404, f"no run {run_id!r} in the studio's --runs folder")
    return folder
