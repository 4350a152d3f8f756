"""SIGINT / SIGTERM mid-epoch: the state at that step is saved, one line says where and how to
resume, exit 130 / 143, and the resumed run ends bit-identical to an uninterrupted one."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from cnnlab.cli import main
from cnnlab.errors import Interrupted
from cnnlab.training.interrupts import StopSignals
from cnnlab.training.state import list_states


def run_args(data, out) -> list[str]:
    # 256 images / batch 32 = 8 steps per epoch, 2 epochs; states only at epoch ends.
    return ["train", "--data-dir", str(data), "--epochs", "2", "--batch-size", "32",
            "--train-subset", "256", "--test-subset", "64", "--threads", "1", "--quiet",
            "--set", "deterministic=true", "--set", "ema_decay=0.9", "--out", str(out)]


def cli(args, env=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "cnnlab", *args], capture_output=True,
                          text=True, env={**os.environ, **(env or {})}, timeout=600,
                          check=False)


@pytest.fixture(scope="module")
def whole(fake_fashion, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("signals") / "whole"
    assert main(run_args(fake_fashion, out)) == 0
    return out


def assert_same_run(a: Path, b: Path) -> None:
    for stem in ("checkpoint", "ema"):
        x, y = load_file(a / f"{stem}.safetensors"), load_file(b / f"{stem}.safetensors")
        assert x.keys() == y.keys() and all(torch.equal(x[k], y[k]) for k in x), stem
    strip = [line.split(",")[:7] for line in (a / "metrics.csv").read_text().splitlines()]
    assert strip == [line.split(",")[:7] for line in (b / "metrics.csv").read_text().splitlines()]


@pytest.mark.parametrize(("name", "status", "step", "where", "states"), [
    ("SIGINT", 130, 11, "in epoch 2 after step 3 of 8", [8, 11]),
    ("SIGTERM", 143, 11, "in epoch 2 after step 3 of 8", [8, 11]),
    # the epoch's last step: stopped before its evaluation, which the resumed run does
    ("SIGINT", 130, 8, "in epoch 1 after step 8 of 8", [8]),
])
def test_signal_mid_epoch_saves_that_step_and_resumes_bit_identical(
        name, status, step, where, states, whole, fake_fashion, tmp_path, monkeypatch, capsys):
    """In this process (the real-process exit status is checked below): the run sends itself
    the signal after global step ``step``."""
    out = tmp_path / "stopped"
    monkeypatch.setenv("CNNLAB_FAULT_KILL_AT_STEP", str(step))
    monkeypatch.setenv("CNNLAB_FAULT_SIGNAL", name)
    capsys.readouterr()
    assert main(run_args(fake_fashion, out)) == status
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == (
        f"stopped by {name} {where} (global step {step} of 16); state saved in "
        f"{out}/state/step-{step:09d}; resume with: cnnlab train --resume {out}\n")
    # the epoch ends' states and the one of the step the signal came in (states are saved
    # only at epoch ends in this run)
    assert [p.name for p in list_states(out)] == [f"step-{n:09d}" for n in states]
    monkeypatch.delenv("CNNLAB_FAULT_KILL_AT_STEP")
    assert main(["train", "--resume", str(out)]) == 0
    assert capsys.readouterr().err == ""  # the lock was released: no stale-lock note
    assert_same_run(whole, out)


def _wait_until_stopped(pid: int, limit_s: float = 300) -> None:
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        stat = Path(f"/proc/{pid}/stat").read_text()
        if stat.rsplit(")", 1)[1].split()[0] in ("T", "t"):
            return
        time.sleep(0.05)
    raise AssertionError(f"process {pid} did not stop within {limit_s} s")


def test_sigterm_from_another_process(whole, fake_fashion, tmp_path):
    """A signal sent from outside (as `kill` or a scheduler does) to a real process: the run
    freezes itself with SIGSTOP after step 5, the test sends SIGTERM, then lets it continue;
    the resumed run (another process) ends as the uninterrupted one."""
    out = tmp_path / "killed-from-outside"
    proc = subprocess.Popen([sys.executable, "-m", "cnnlab", *run_args(fake_fashion, out)],
                            env={**os.environ, "CNNLAB_FAULT_KILL_AT_STEP": "5",
                                 "CNNLAB_FAULT_SIGNAL": "SIGSTOP"},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        _wait_until_stopped(proc.pid)
        proc.send_signal(signal.SIGTERM)
        proc.send_signal(signal.SIGCONT)
        _, err = proc.communicate(timeout=300)
    finally:
        proc.kill()
    assert proc.returncode == 143
    assert err == (f"stopped by SIGTERM in epoch 1 after step 5 of 8 (global step 5 of 16); "
                   f"state saved in {out}/state/step-000000005; resume with: cnnlab train "
                   f"--resume {out}\n")
    assert [p.name for p in list_states(out)] == ["step-000000005"]
    resumed = cli(["train", "--resume", str(out)])
    assert resumed.returncode == 0 and resumed.stderr == "", resumed.stderr
    assert_same_run(whole, out)


def test_a_second_signal_stops_at_once_and_handlers_are_restored():
    before = signal.getsignal(signal.SIGINT)
    with StopSignals(lambda signum: f"stopped at once by {signum}") as stop:
        stop.deferring = True
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(0.01)  # the handler runs in the main thread between bytecodes
        assert stop.received == signal.SIGINT
        with pytest.raises(Interrupted) as err:
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(1)
    assert err.value.exit_code == 143 and str(err.value) == f"stopped at once by {signal.SIGTERM}"
    assert signal.getsignal(signal.SIGINT) is before


def test_a_signal_before_training_stops_at_once():
    with pytest.raises(Interrupted) as err, StopSignals(lambda signum: "early"):
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(1)
    assert err.value.exit_code == 130 and str(err.value) == "early"
