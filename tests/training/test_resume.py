"""Exact resume after SIGKILL (the dead run's lock is taken over), and the NaN/Inf stop
(subprocesses run the real CLI)."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys

import pytest
import torch
from safetensors.torch import load_file

from cnnlab.cli import main
from cnnlab.errors import CnnlabError
from cnnlab.fileio import LOCK_NAME
from cnnlab.runs import load_checkpoint
from cnnlab.training import TrainConfig, train
from cnnlab.training.state import list_states


def run_args(data, out):
    # 256 images / batch 32 = 8 steps per epoch; 2 epochs; resumable state every 3 steps.
    return ["train", "--data-dir", str(data), "--epochs", "2", "--batch-size", "32",
            "--train-subset", "256", "--test-subset", "64", "--threads", "1", "--quiet",
            "--set", "deterministic=true", "--set", "checkpoint_every=3",
            "--set", "ema_decay=0.9", "--set", "log_steps=true", "--out", str(out)]


def cli(args, **env):
    return subprocess.run([sys.executable, "-m", "cnnlab", *args], capture_output=True,
                          text=True, env={**os.environ, **env}, timeout=600, check=False)


def metrics(run):
    with open(run / "metrics.csv") as handle:
        return [{k: v for k, v in row.items() if k not in ("seconds", "images_per_s")}
                for row in csv.DictReader(handle)]


def test_sigkill_mid_epoch_then_resume_is_bit_identical(fake_fashion, tmp_path):
    assert main(run_args(fake_fashion, tmp_path / "whole")) == 0
    killed = cli(run_args(fake_fashion, tmp_path / "killed"), CNNLAB_FAULT_KILL_AT_STEP="11")
    assert killed.returncode == -9, killed.stderr  # SIGKILL in epoch 2, step 3 of 8
    assert [p.name for p in list_states(tmp_path / "killed")][-1] == "step-000000009"
    assert len(metrics(tmp_path / "killed")) == 1
    holder = json.loads((tmp_path / "killed" / LOCK_NAME).read_text())  # left by the dead run
    resumed = cli(["train", "--resume", str(tmp_path / "killed")])
    assert resumed.returncode == 0, resumed.stderr
    assert resumed.stderr.startswith(f"note: {tmp_path / 'killed'}: took over the lock left by "
                                     f"pid {holder['pid']} (cnnlab train since ")
    assert resumed.stderr.endswith("which is no longer running\n")
    assert resumed.stderr.count("\n") == 1
    # the per-step log survives the kill: the resumed run's equals the uninterrupted one's
    steps = (tmp_path / "whole" / "steps.csv").read_text().splitlines()
    assert steps[0] == "step,loss,correct,images" and len(steps) == 1 + 16
    assert (tmp_path / "killed" / "steps.csv").read_text().splitlines() == steps
    for stem in ("checkpoint", "ema"):
        a = load_file(tmp_path / "whole" / f"{stem}.safetensors")
        b = load_file(tmp_path / "killed" / f"{stem}.safetensors")
        assert a.keys() == b.keys()
        assert all(torch.equal(a[k], b[k]) for k in a), stem
    assert metrics(tmp_path / "whole") == metrics(tmp_path / "killed")


def test_in_memory_run_resumes_bit_identical(fake_fashion, tmp_path):
    """The fast recipe's in-memory batches redraw the interrupted epoch's flips and shifts;
    the lookahead average resumes too."""
    args = [*run_args(fake_fashion, tmp_path / "whole"), "--recipe", "fast",
            "--set", "translate=1", "--set", "lookahead_every=2"]
    assert main(args) == 0
    args[args.index("--out") + 1] = str(tmp_path / "killed")
    killed = cli(args, CNNLAB_FAULT_KILL_AT_STEP="11")
    assert killed.returncode == -9, killed.stderr
    resumed = cli(["train", "--resume", str(tmp_path / "killed")])
    assert resumed.returncode == 0, resumed.stderr
    a = load_file(tmp_path / "whole" / "checkpoint.safetensors")
    b = load_file(tmp_path / "killed" / "checkpoint.safetensors")
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert metrics(tmp_path / "whole") == metrics(tmp_path / "killed")


def test_nan_loss_stops_after_n_bad_steps_with_a_usable_checkpoint(fake_fashion, tmp_path):
    cfg = TrainConfig(data_dir=str(fake_fashion), lr=1e30, epochs=1, batch_size=32,
                      train_subset=256, test_subset=32, max_bad_steps=3, quiet=True,
                      out=str(tmp_path / "nan"))
    with pytest.raises(CnnlabError, match=r"NaN or Inf for 3 steps in a row") as err:
        train(cfg)
    assert "--resume" in str(err.value)
    model, meta = load_checkpoint(tmp_path / "nan")
    assert meta["model"] == "smallcnn" and model(torch.zeros(1, 1, 28, 28)).shape == (1, 10)
    assert list_states(tmp_path / "nan")


def test_resume_without_state_is_an_error(tmp_path, capsys):
    assert main(["train", "--resume", str(tmp_path)]) == 1
    assert "not a run folder" in capsys.readouterr().err
