"""Where cnnlab's files go, and how they get there.

Atomic writes: every output is written to a temp file in the same folder, then renamed. An
interrupted process (Ctrl-C, SIGKILL, full disk) therefore leaves either the old file or the new
one, never half of one. Downloads and derived files (datasets, ONNX exports) live under one
cache folder, ``cache_dir()``. ``run_lock`` keeps a folder to one writer at a time.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shlex
import socket
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from cnnlab.errors import CnnlabError, note

LOCK_NAME = ".cnnlab-lock"


def cache_dir() -> Path:
    """Where downloads and derived files go: ~/.cache/cnnlab (or $XDG_CACHE_HOME/cnnlab)."""
    base = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    return base / "cnnlab"


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temp path beside ``path``; rename it onto ``path`` if the block succeeds."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        # mkstemp makes 0600 (and writers may recreate the file): give the usual permissions.
        os.chmod(tmp, 0o666 & ~_umask())
        with open(tmp, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except OSError as err:
        if err.filename is None:  # a failed write() names no file: name the one meant
            err.filename = str(path)
        raise
    finally:
        if tmp.exists():
            tmp.unlink()


def write_text(path: str | Path, text: str) -> Path:
    """Atomically write a text file."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)


def write_json(path: str | Path, data: Any) -> Path:
    """Atomically write pretty JSON."""
    return write_text(path, json.dumps(data, indent=2, sort_keys=False) + "\n")


@contextlib.contextmanager
def run_lock(folder: str | Path, what: str) -> Iterator[Path]:
    """Hold ``folder``'s writer lock for the block: one writing process per folder.

    ``what`` names the writer in messages (e.g. "cnnlab train"). The folder is created if
    needed. The lock is ``flock`` on ``folder/.cnnlab-lock``, which records the holder (pid,
    host, ``what``, command line, start time in UTC). Raises CnnlabError, one line naming the
    holder, when another process (or another ``run_lock`` of this one: it is not reentrant)
    holds it. The kernel releases a dead process's lock, SIGKILL included, so a record found
    under a free lock is stale: it is taken over with a one-line note. Leaving the block empties
    the record; the file stays, since deleting it would let two writers lock two different
    files. Under torchrun only the process that writes (rank 0) takes the lock. Yields the lock
    file's path.
    """
    # fcntl.flock directly: the filelock package has no record of the holder to name.
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise CnnlabError(f"{folder} is a file, not a folder")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd = os.open(folder / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o666)
    except OSError as err:
        raise CnnlabError(f"{folder}: cannot write here ({err.strerror})") from None
    try:
        _acquire(fd, folder)
        stale = _read_record(fd)
        if stale:
            note(f"{folder}: took over the lock left by {_describe(stale)}, which "
                 f"{'is no longer running' if _gone(stale) else 'no longer holds it'}")
        _write_record(fd, what)
        try:
            yield folder / LOCK_NAME
        finally:
            with contextlib.suppress(OSError):  # read-only now: the record stays, stale later
                os.ftruncate(fd, 0)
    finally:
        os.close(fd)  # releases the lock


def lock_holder(folder: str | Path) -> dict[str, Any] | None:
    """The record of the live process writing ``folder`` (see ``run_lock``), or None when no
    writer holds it. Reads the record only: taking the lock, even shared for a moment, could
    refuse a writer that starts at that instant. A record from another host counts as live."""
    try:
        text = (Path(folder) / LOCK_NAME).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    try:
        record = json.loads(text) if text.strip() else None
    except json.JSONDecodeError:
        return None
    if not isinstance(record, dict) or _gone(record):
        return None
    return record


def _acquire(fd: int, folder: Path) -> None:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = _read_record(fd)
        raise CnnlabError(f"{folder} is in use by {_describe(holder) or 'another process'}; "
                          "wait for it to finish or choose another folder") from None
    except OSError as err:
        raise CnnlabError(f"{folder}: cannot lock ({err.strerror})") from None


def _read_record(fd: int) -> dict[str, Any]:
    os.lseek(fd, 0, os.SEEK_SET)
    text = os.read(fd, 65536).decode("utf-8", "replace")
    try:
        record = json.loads(text) if text.strip() else {}
    except json.JSONDecodeError:
        return {"what": "an unknown writer"}
    return record if isinstance(record, dict) else {"what": "an unknown writer"}


def _write_record(fd: int, what: str) -> None:
    program = Path(sys.argv[0]).name if sys.argv and sys.argv[0] else "python"
    if program in ("__main__.py", "cnnlab"):
        program = "cnnlab"
    record = {"pid": os.getpid(), "host": socket.gethostname(), "what": what,
              "command": shlex.join([program, *sys.argv[1:]]),
              "started": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())}
    os.ftruncate(fd, 0)
    os.lseek(fd, 0, os.SEEK_SET)
    os.write(fd, (json.dumps(record) + "\n").encode("utf-8"))
    os.fsync(fd)


def _describe(record: dict[str, Any]) -> str:
    """'pid 123 (cnnlab train since 2026-12-01 11:40:02 UTC: cnnlab train --out x)'"""
    if not record:
        return ""
    where = f" on {record['host']}" if record.get("host") not in (None, socket.gethostname()) \
        else ""
    since = f" since {record['started']}" if record.get("started") else ""
    command = f": {record['command']}" if record.get("command") else ""
    return f"pid {record.get('pid', '?')}{where} ({record.get('what', '?')}{since}{command})"


def _gone(record: dict[str, Any]) -> bool:
    """Whether the recorded process is known to have ended (on this host; elsewhere we
    cannot tell)."""
    if record.get("host") != socket.gethostname() or not isinstance(record.get("pid"), int):
        return False
    try:
        os.kill(record["pid"], 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False
