"""The run folder as a whole: its name, one writer at a time, and never a silent overwrite.

A new run claims its folder: the default name ``runs/<model>-<YYYYmmdd-HHMMSS>`` gets ``-2``,
``-3``, ... when a run started in the same second has it (``mkdir`` is atomic, so two
processes never get the same one). A folder that already holds a run (any file a run writes)
is refused unless ``overwrite``, which deletes that run's files after saying which; nothing is
moved aside and files that are not a run's are left alone. The folder's writer lock
(``cnnlab.fileio.run_lock``) is held for the whole run, ``--resume`` included. A failed write
(full disk, read-only folder) becomes a one-line error naming the last complete state.
"""

from __future__ import annotations

import contextlib
import errno
import itertools
import shlex
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

from cnnlab.errors import CnnlabError, note
from cnnlab.fileio import LOCK_NAME, run_lock
from cnnlab.training import state as state_

# Every name a run writes at the top of its folder (see cnnlab.training.trainer).
RUN_FILES = ("config.json", "metrics.csv", "curves.png", "checkpoint.safetensors",
             "checkpoint.json", "ema.safetensors", "ema.json", "skipped_files.txt", "steps.csv",
             state_.STATE_DIR, "tensorboard")
# What a full disk, a read-only or unwritable folder and a quota raise.
WRITE_ERRNOS = {errno.ENOSPC, errno.EROFS, errno.EACCES, errno.EPERM, errno.EDQUOT,
                errno.EFBIG}


def default_out(model: str, root: str | Path = "runs") -> Path:
    """Create and return ``root/<model>-<time>`` (with ``-N`` when that name is taken)."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    Path(root).mkdir(parents=True, exist_ok=True)
    for n in itertools.count(1):
        path = Path(root) / (f"{model}-{stamp}" if n == 1 else f"{model}-{stamp}-{n}")
        try:
            path.mkdir()
        except FileExistsError:
            continue
        return path
    raise AssertionError("unreachable")


def resume_command(out: str | Path, nproc: int = 1, nodes: int = 1) -> str:
    """The command that continues the run in ``out``, started with ``nproc`` processes on each
    of ``nodes`` machines (a resumed run needs as many as the run had)."""
    command = f"cnnlab train --resume {shlex.quote(str(out))}"
    if nodes > 1:
        return f"{command} (under the same torchrun command on each of the {nodes} machines)"
    return f"{command} --nproc {nproc}" if nproc > 1 else command


def run_files(out: Path) -> list[str]:
    """The names in ``out`` that a run wrote (empty: no run here)."""
    return [name for name in RUN_FILES if (out / name).exists()]


def _size(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def clear_for_new_run(out: Path, overwrite: bool) -> None:
    """Refuse ``out`` when it holds a run, or with ``overwrite`` delete that run's files."""
    found = run_files(out)
    if not found:
        return
    if not overwrite:
        raise CnnlabError(f"{out} already holds a run ({', '.join(found)}); continue it with "
                          f"`{resume_command(out)}`, replace it with --overwrite, or choose "
                          "another --out")
    size = sum(_size(out / name) for name in found)
    names = [f"{n}/" if (out / n).is_dir() else n for n in found]
    note(f"--overwrite: deleting the run in {out}: {', '.join(names)} "
         f"({size / 1e6:.1f} MB)")
    for name in found:
        path = out / name
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink()


@contextlib.contextmanager
def writing(out: Path, *, resume: bool, overwrite: bool, claimed: bool = False) -> Iterator[None]:
    """Hold ``out``'s lock for the block, after refusing or clearing an old run (new runs).

    When the block fails before anything was written, the folder is removed again if this
    call created it or ``claimed`` says the caller did (``default_out``).
    """
    created = claimed or not out.exists()
    try:
        with run_lock(out, "cnnlab train"):
            if not resume:
                clear_for_new_run(out, overwrite)
            yield
    except BaseException:
        if created and out.is_dir() and [p.name for p in out.iterdir()] in ([], [LOCK_NAME]):
            with contextlib.suppress(OSError):
                (out / LOCK_NAME).unlink(missing_ok=True)
                out.rmdir()
        raise


def check_before_launch(out: Path, *, resume: bool, overwrite: bool) -> None:
    """What ``cnnlab train --nproc`` checks before torchrun starts its processes: that no
    other writer holds ``out`` and, for a new run, that ``out`` holds no run (unless
    ``overwrite``: rank 0 deletes it). Rank 0 takes the lock itself for the run; refusing here
    spares a refusal inside torchrun, which reports it as a failed worker."""
    if out.exists():
        with run_lock(out, "cnnlab train --nproc (checking the folder)"):
            if not resume and not overwrite:
                clear_for_new_run(out, overwrite=False)


def write_error(err: OSError, out: Path) -> CnnlabError | None:
    """The one-line error for a failed write into the run folder, or None for other errors."""
    if err.errno not in WRITE_ERRNOS or (
            err.filename and not Path(err.filename).resolve().is_relative_to(out.resolve())):
        return None  # not a write into the run folder (e.g. an unreadable dataset file)
    where = f" {err.filename}" if err.filename else ""
    message = f"cannot write{where} ({err.strerror}); the run stopped"
    states = state_.list_states(out)
    if not states:
        return CnnlabError(f"{message}; no state was saved yet")
    return CnnlabError(f"{message}; the last complete state is {states[-1]}: make room or make "
                       f"{out} writable, then `{resume_command(out)}`")
