"""Two machines on one: two network namespaces joined by a veth pair, one torchrun node in each.

Node 0 lives in namespace A at 10.77.0.1 and hosts the c10d rendezvous; node 1 lives in
namespace B at 10.77.0.2. Gloo talks over the veth pair only (GLOO_SOCKET_IFNAME), and no
address but loopback and these two is used. Both nodes see the same folder of data and run
folders, as two machines see shared storage, but node 1 sees it through a read-only bind mount
in a mount namespace of its own: a file written there by a rank other than 0 fails the run.

Making namespaces needs root and iproute2 (`make test` installs iproute2 as root); without
them the test fails with a message naming what is missing, it is never skipped.
"""

from __future__ import annotations

import contextlib
import csv
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

import cnnlab
from cnnlab.cli import main
from cnnlab.data.synthetic import write_fashion_mnist_like

pytestmark = pytest.mark.slow

ADDRESSES = ("10.77.0.1", "10.77.0.2")
PORT = 29500
TIMEOUT_S = 150


@dataclass(frozen=True)
class Nodes:
    namespaces: tuple[str, str]
    links: tuple[str, str]  # the veth end inside each namespace
    shared: Path  # data and run folders: read-write on node 0, read-only on node 1
    scratch: Path  # each node's own HOME and TMPDIR below it


def _ip(*args: str) -> None:
    done = subprocess.run(["ip", *args], capture_output=True, text=True, timeout=30,
                          check=False)
    if done.returncode != 0:
        pytest.fail(f"`ip {' '.join(args)}` failed: {done.stderr.strip()} (making network "
                    "namespaces needs root with CAP_SYS_ADMIN and CAP_NET_ADMIN)")


def _missing_rights() -> str | None:
    if shutil.which("ip") is None:
        return ("iproute2's `ip` is missing: this test makes two network namespaces with it "
                "(apt-get install iproute2; `make test` does that when run as root)")
    if os.geteuid() != 0:
        return (f"making network namespaces needs root; this test runs as uid {os.geteuid()} "
                "(run `make test` as root, as CI does)")
    for tool in ("unshare", "mount"):
        if shutil.which(tool) is None:
            return f"util-linux's `{tool}` is missing: node 1 mounts the run folder read-only"
    return None


@pytest.fixture
def nodes():
    missing = _missing_rights()
    if missing:
        pytest.fail(missing)
    tag = secrets.token_hex(3)
    namespaces = (f"cnnlab-{tag}-0", f"cnnlab-{tag}-1")
    links = (f"cl{tag}n0", f"cl{tag}n1")  # interface names have at most 15 characters
    base = Path(tempfile.mkdtemp(prefix=f"cnnlab-two-nodes-{tag}-"))
    made: list[str] = []
    try:
        (base / "shared").mkdir()
        for name in namespaces:
            _ip("netns", "add", name)
            made.append(name)
        _ip("link", "add", links[0], "type", "veth", "peer", "name", links[1])
        for name, link, address in zip(namespaces, links, ADDRESSES, strict=True):
            _ip("link", "set", link, "netns", name)
            _ip("-n", name, "addr", "add", f"{address}/24", "dev", link)
            _ip("-n", name, "link", "set", link, "up")
            _ip("-n", name, "link", "set", "lo", "up")
        yield Nodes(namespaces, links, base / "shared", base)
    finally:
        # Deleting a namespace destroys its end of the veth pair, and the pair with it.
        subprocess.run(["ip", "link", "del", links[0]], capture_output=True, check=False)
        for name in made:
            subprocess.run(["ip", "netns", "del", name], capture_output=True, check=False)
        shutil.rmtree(base, ignore_errors=True)


def train_args(data: Path, out: Path) -> list[str]:
    # 128 images / global batch 32 = 4 steps per epoch, 2 epochs, a state every 2 steps. BN
    # frozen and no dropout: per-process batch statistics and masks differ from one process's
    # by design (tests/training/test_distributed.py says the same).
    return ["train", "--data-dir", str(data), "--epochs", "2", "--batch-size", "32",
            "--train-subset", "128", "--test-subset", "32", "--threads", "1", "--quiet",
            "--set", "freeze_bn=true", "--set", "model_options={dropout: 0.0}",
            "--set", "deterministic=true", "--set", "checkpoint_every=2", "--out", str(out)]


def _node_env(nodes: Nodes, rank: int, extra: dict[str, str]) -> dict[str, str]:
    home = nodes.scratch / f"node{rank}"
    home.mkdir(exist_ok=True)
    return {"PATH": "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin",
            "PYTHONPATH": str(Path(cnnlab.__file__).parents[1]), "HOME": str(home),
            "TMPDIR": str(home), "MPLCONFIGDIR": str(home), "PYTHONDONTWRITEBYTECODE": "1",
            "PYTHONUNBUFFERED": "1", "OMP_NUM_THREADS": "1", "LOGLEVEL": "INFO",
            "GLOO_SOCKET_IFNAME": nodes.links[rank], **extra}


def _node_command(nodes: Nodes, rank: int, run_id: str, max_restarts: int,
                  args: list[str]) -> list[str]:
    read_only = [] if rank == 0 else [
        "unshare", "--mount", "--propagation", "private", "sh", "-c",
        'mount --bind -o ro "$0" "$0" && exec "$@"', str(nodes.shared)]
    host = "true" if rank == 0 else "false"
    return ["ip", "netns", "exec", nodes.namespaces[rank], *read_only,
            sys.executable, "-m", "torch.distributed.run", "--nnodes", "2",
            "--nproc-per-node", "1", "--rdzv-backend", "c10d",
            "--rdzv-endpoint", f"{ADDRESSES[0]}:{PORT}", "--rdzv-id", run_id,
            "--rdzv-conf", f"is_host={host},join_timeout=60", "--local-addr", ADDRESSES[rank],
            "--max-restarts", str(max_restarts), "--monitor-interval", "0.2",
            "-m", "cnnlab", *args]


def run_two_nodes(nodes: Nodes, args: list[str], max_restarts: int = 0,
                  node1_env: dict[str, str] | None = None) -> list[subprocess.CompletedProcess]:
    """Start node 0 and node 1 and wait for both; returns their results (text output)."""
    run_id = f"cnnlab-{secrets.token_hex(4)}"
    logs = [nodes.scratch / f"{run_id}-node{rank}.log" for rank in (0, 1)]
    with contextlib.ExitStack() as stack:
        procs = []
        for rank in (0, 1):
            env = _node_env(nodes, rank, (node1_env or {}) if rank == 1 else {})
            procs.append(stack.enter_context(subprocess.Popen(
                _node_command(nodes, rank, run_id, max_restarts, args), cwd=nodes.shared,
                env=env, stdout=stack.enter_context(open(logs[rank], "w")),
                stderr=subprocess.STDOUT, start_new_session=True)))
        deadline = time.monotonic() + TIMEOUT_S
        try:
            for proc in procs:
                proc.wait(timeout=max(1.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            pass  # reported below, with both nodes' output
        finally:
            for proc in procs:
                if proc.poll() is None:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait()
    results = [subprocess.CompletedProcess(proc.args, proc.returncode, log.read_text())
               for proc, log in zip(procs, logs, strict=True)]
    if any(r.returncode == -signal.SIGKILL for r in results):
        pytest.fail(f"the two nodes did not finish within {TIMEOUT_S}s\n{_report(results)}")
    return results


def _report(results: list[subprocess.CompletedProcess]) -> str:
    return "\n".join(f"--- node {rank} (exit {r.returncode}) ---\n{r.stdout[-3000:]}"
                     for rank, r in enumerate(results))


def _epochs(run: Path) -> list[int]:
    with open(run / "metrics.csv") as handle:
        return [int(row["epoch"]) for row in csv.DictReader(handle)]


def test_two_nodes_match_one_process_and_survive_a_killed_node(nodes, tmp_path):
    data = write_fashion_mnist_like(nodes.shared / "data")
    assert main(train_args(data, tmp_path / "one")) == 0
    one = load_file(tmp_path / "one" / "checkpoint.safetensors")

    whole = run_two_nodes(nodes, train_args(data, nodes.shared / "two"))
    assert [r.returncode for r in whole] == [0, 0], _report(whole)
    two = load_file(nodes.shared / "two" / "checkpoint.safetensors")
    # Not bit-equal: the global batch's gradient is two half-batch means summed over the veth
    # and halved, one process takes one mean over 32; the same sums in another order.
    worst = max(float((one[k] - two[k]).abs().max()) for k in one)
    print(f"two nodes vs one process: largest weight difference {worst:.3g}")
    assert worst < 1e-6, worst
    state = max((nodes.shared / "two" / "state").glob("step-*"))
    assert sorted(p.name for p in state.glob("rng-rank*.json")) == ["rng-rank0.json",
                                                                     "rng-rank1.json"]

    # The worker of node 1 SIGKILLs itself after global step 7 of 8 (states at 2, 4, 6).
    killed = run_two_nodes(nodes, train_args(data, nodes.shared / "killed"), max_restarts=1,
                           node1_env={"CNNLAB_FAULT_KILL_AT_STEP": "7",
                                      "CNNLAB_FAULT_KILL_RANK": "1"})
    assert [r.returncode for r in killed] == [0, 0], _report(killed)
    node0, node1 = killed[0].stdout, killed[1].stdout
    assert "exitcode: -9" in node1 or "Signal 9" in node1 or "SIGKILL" in node1, node1
    assert "Worker group FAILED. 1/1 attempts left; will restart worker group" in node1, node1
    assert "resumed from state/step-000000006 (global step 6" in node0, node0
    assert _epochs(nodes.shared / "killed") == [1, 2]
    again = load_file(nodes.shared / "killed" / "checkpoint.safetensors")
    assert all(torch.equal(two[k], again[k]) for k in two)
