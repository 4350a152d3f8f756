"""A full disk or a folder turned read-only during a run: one-line error, and the last complete
checkpoint and state stay loadable (the run resumes once the folder is writable again).

The test mounts its own small tmpfs, which needs root (CAP_SYS_ADMIN), as in CI and the
session container; without that right it is skipped with the reason.
"""

from __future__ import annotations

import errno
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cnnlab.cli import main
from cnnlab.runs import load_checkpoint
from cnnlab.training.state import STATE_DIR, list_states, load_state


@pytest.fixture
def small_fs(tmp_path):
    mount_point = tmp_path / "fs"
    mount_point.mkdir()
    made = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs", str(mount_point)],
                          capture_output=True, text=True, check=False)
    if made.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs root): {made.stderr.strip()}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)


def _fill(folder: Path) -> None:
    chunk = b"\0" * (1 << 20)
    with open(folder / "filler", "wb") as handle:
        try:
            while True:
                handle.write(chunk)
                handle.flush()
        except OSError as err:
            assert err.errno == errno.ENOSPC


def _read_only(folder: Path) -> None:
    """``folder`` read-only from now on: a read-only bind mount over it (remounting the tmpfs
    itself is refused while the run holds files open for writing)."""
    subprocess.run(["mount", "--bind", str(folder), str(folder)], check=True)
    subprocess.run(["mount", "-o", "remount,bind,ro", str(folder)], check=True)


def _wait_until_stopped(pid: int, limit_s: float = 300) -> None:
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        if Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] in ("T", "t"):
            return
        time.sleep(0.05)
    raise AssertionError(f"process {pid} did not stop within {limit_s} s")


@pytest.mark.parametrize(("damage", "reason"), [("full", "No space left on device"),
                                                ("read-only", "Read-only file system")])
def test_write_failure_mid_run(damage, reason, small_fs, fake_fashion, capsys):
    out = small_fs / "run"
    # 8 steps per epoch, state every 3 steps: after step 11 the states are 8 and 9; the run
    # freezes itself there (SIGSTOP), the disk is damaged, and the next save (step 12) fails.
    args = ["train", "--data-dir", str(fake_fashion), "--epochs", "2", "--batch-size", "32",
            "--train-subset", "256", "--test-subset", "64", "--threads", "1", "--quiet",
            "--set", "checkpoint_every=3", "--out", str(out)]
    proc = subprocess.Popen([sys.executable, "-m", "cnnlab", *args], text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env={**os.environ, "CNNLAB_FAULT_KILL_AT_STEP": "11",
                                 "CNNLAB_FAULT_SIGNAL": "SIGSTOP"})
    try:
        _wait_until_stopped(proc.pid)
        _fill(small_fs) if damage == "full" else _read_only(out)
        proc.send_signal(signal.SIGCONT)
        stdout, stderr = proc.communicate(timeout=300)
    finally:
        proc.kill()
    assert proc.returncode == 1
    assert (stdout + stderr).count("\n") == 1, stdout + stderr
    last = out / STATE_DIR / "step-000000009"
    assert stderr.startswith(f"error: cannot write {out}/{STATE_DIR}/")
    assert stderr.endswith(f" ({reason}); the run stopped; the last complete state is {last}: "
                           f"make room or make {out} writable, then `cnnlab train --resume "
                           f"{out}`\n")
    assert list_states(out) == [out / STATE_DIR / "step-000000008", last]
    assert [p.name for p in (out / STATE_DIR).iterdir() if p.name.startswith(".tmp")] == []
    tree, _ = load_state(last, 0)
    assert tree["progress"]["global_step"] == 9
    _, meta = load_checkpoint(out)
    assert meta["metrics"]["epoch"] == 1
    if damage == "full":
        (small_fs / "filler").unlink()
    else:
        subprocess.run(["umount", "-l", str(out)], check=True)  # lazy: the test maps files
    assert main(["train", "--resume", str(out)]) == 0
    assert len((out / "metrics.csv").read_text().splitlines()) == 1 + 2
