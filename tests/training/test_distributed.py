"""DDP on the CPU (gloo, 2 processes): equivalence with one process, restart after a death."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import torch
from safetensors.torch import load_file

from cnnlab.cli import main


def ddp_args(data, out, batch=32):
    # BN layers frozen and no dropout: with them on, 2 x B/2 differs from 1 x B by design
    # (per-process batch statistics, per-process masks); everything else must agree.
    return ["train", "--data-dir", str(data), "--epochs", "2", "--batch-size", str(batch),
            "--train-subset", "128", "--test-subset", "32", "--threads", "1", "--quiet",
            "--set", "freeze_bn=true", "--set", "model_options={dropout: 0.0}",
            "--set", "deterministic=true", "--set", "checkpoint_every=2", "--out", str(out)]


def weights(run):
    return load_file(run / "checkpoint.safetensors")


@pytest.fixture(scope="module")
def two_process_run(fake_fashion, tmp_path_factory):
    out = tmp_path_factory.mktemp("ddp") / "two"
    done = subprocess.run([sys.executable, "-m", "cnnlab", *ddp_args(fake_fashion, out),
                           "--nproc", "2"], capture_output=True, text=True, timeout=600,
                          check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return out


def test_two_processes_with_half_batches_match_one_process(two_process_run, fake_fashion,
                                                            tmp_path):
    assert main(ddp_args(fake_fashion, tmp_path / "one")) == 0
    one, two = weights(tmp_path / "one"), weights(two_process_run)
    for key in one:
        assert torch.allclose(one[key], two[key], rtol=1e-4, atol=1e-5), key
    last = max((two_process_run / "state").glob("step-*"))
    assert {p.name for p in last.glob("rng-rank*.json")} == {"rng-rank0.json", "rng-rank1.json"}


def test_torchrun_restart_after_a_worker_dies_resumes_bit_identical(
        two_process_run, fake_fashion, tmp_path):
    out = tmp_path / "restarted"
    env = {**os.environ, "CNNLAB_FAULT_KILL_AT_STEP": "5", "CNNLAB_FAULT_KILL_RANK": "1"}
    done = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node=2",
         "--max-restarts=1", "-m", "cnnlab", *ddp_args(fake_fashion, out)],
        capture_output=True, text=True, env=env, timeout=600, check=False)
    assert done.returncode == 0, "\n".join(
        line for line in done.stderr.splitlines() if "Error" in line or "error:" in line)
    assert "SIGKILL" in done.stderr or "Signal 9" in done.stderr or "exitcode: -9" in done.stderr
    a, b = weights(two_process_run), weights(out)
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_sigterm_to_the_agent_stops_every_rank_after_one_step_then_resumes_bit_identical(
        two_process_run, fake_fashion, tmp_path):
    """`cnnlab train --nproc 2` runs torchrun's agent in its own process; rank 0 sends that
    process SIGTERM after global step 5, as `kill` would. The agent passes the signal on; both
    ranks agree to stop after the same step, save it, and only rank 0 says so."""
    out = tmp_path / "stopped"
    env = {**os.environ, "CNNLAB_FAULT_KILL_AT_STEP": "5", "CNNLAB_FAULT_SIGNAL": "SIGTERM",
           "CNNLAB_FAULT_TARGET": "parent"}
    env.pop("LOGLEVEL", None)
    done = subprocess.run([sys.executable, "-m", "cnnlab", *ddp_args(fake_fashion, out),
                           "--nproc", "2"], capture_output=True, text=True, env=env,
                          timeout=600, check=False)
    assert done.returncode == 143, done.stderr[-3000:]
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("stopped by SIGTERM in epoch 2 after step "), lines[0]
    step = int(lines[0].split("(global step ")[1].split()[0])
    assert 5 <= step < 8  # the step the signal reached both ranks after
    saved = out / "state" / f"step-{step:09d}"
    assert lines[0].endswith(f"state saved in {saved}; resume with: "
                             f"cnnlab train --resume {out} --nproc 2")
    assert sorted(p.name for p in saved.glob("rng-rank*.json")) == ["rng-rank0.json",
                                                                     "rng-rank1.json"]
    assert (out / "metrics.csv").read_text().count("\n") == 2  # the header and epoch 1
    resumed = subprocess.run([sys.executable, "-m", "cnnlab", "train", "--resume", str(out),
                              "--nproc", "2"], capture_output=True, text=True, timeout=600,
                             check=False)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    a, b = weights(two_process_run), weights(out)
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_a_refused_run_folder_stops_every_rank_with_one_line(two_process_run, fake_fashion):
    """Under a bare torchrun rank 0 alone takes the run folder (here: one that holds a
    finished run, refused); the other rank learns the outcome instead of waiting at its first
    collective, and prints nothing (torchrun adds its own failure summary)."""
    done = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node=2",
         "-m", "cnnlab", *ddp_args(fake_fashion, two_process_run)],
        capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode != 0
    errors = [line for line in done.stderr.splitlines() if "error:" in line]
    assert len(errors) == 1 and errors[0].startswith(f"error: {two_process_run} already holds "
                                                     "a run"), done.stderr[-3000:]
    assert f"cnnlab train --resume {two_process_run}" in errors[0]
    assert not [line for line in done.stderr.splitlines() if line.startswith("[rank")]
