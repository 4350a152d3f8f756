"""Distributed training helpers: torchrun's environment, DDP, reductions, the --nproc launcher.

``torchrun --nproc-per-node N -m cnnlab train ...`` starts N copies of the command with RANK,
WORLD_SIZE, LOCAL_RANK and MASTER_ADDR/PORT set; ``setup`` reads them and joins the process
group (NCCL on CUDA, gloo on the CPU). Without those variables the run is a single process and
nothing here talks to the network.

Under torchrun only rank 0 writes into the run folder: ``gather_to_main`` brings it what the
others would write, ``on_main`` runs a write (or takes a lock) there and gives every rank its
outcome. ``agreed_signal`` makes every rank stop after the same step on SIGINT / SIGTERM.
"""

from __future__ import annotations

import logging
import os
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, TypeVar

import torch
import torch.distributed as dist

from cnnlab.device import pick_device
from cnnlab.errors import CnnlabError, PeerError

T = TypeVar("T")


@dataclass(frozen=True)
class DistContext:
    """Where this process sits: rank in [0, world), its device, and which attempt of the
    job this is (0 the first; torchrun's ``--max-restarts`` starts the later ones)."""

    rank: int = 0
    world: int = 1
    local_rank: int = 0
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))
    restart: int = 0
    local_world: int = 1  # processes on this machine

    @property
    def main(self) -> bool:
        """Only the main process (rank 0) writes files and prints."""
        return self.rank == 0

    @property
    def enabled(self) -> bool:
        return self.world > 1


def setup(device_name: str) -> DistContext:
    """Join torchrun's process group when launched by it; otherwise a single-process context."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        restart = int(os.environ.get("TORCHELASTIC_RESTART_COUNT", "0"))
        return DistContext(device=pick_device(device_name), restart=restart)
    rank, local_rank = int(os.environ["RANK"]), int(os.environ.get("LOCAL_RANK", "0"))
    local_world = int(os.environ.get("LOCAL_WORLD_SIZE", str(world)))
    device = pick_device(device_name)
    if device.type == "cuda":
        device = torch.device("cuda", local_rank)
        torch.cuda.set_device(device)
    if dist.is_initialized():  # the caller joined the group itself
        return DistContext(rank, world, local_rank, device,
                           int(os.environ.get("TORCHELASTIC_RESTART_COUNT", "0")), local_world)
    store, _, _ = next(dist.rendezvous("env://", rank=rank, world_size=world))
    prefix, attempt = _join_attempt(store, rank, world)
    dist.init_process_group("nccl" if device.type == "cuda" else "gloo",
                            store=dist.PrefixStore(prefix, store), rank=rank, world_size=world)
    return DistContext(rank, world, local_rank, device, attempt, local_world)


def _join_attempt(store: dist.Store, rank: int, world: int,
                  timeout_s: float = 300.0) -> tuple[str, int]:
    """(key prefix, attempt number) that every process of this attempt shares.

    torchrun's store outlives an attempt, and a restarted attempt that read the dead one's
    keys would try to connect to dead addresses; TORCHELASTIC_RESTART_COUNT cannot name the
    attempt, because after a process dies on one node only that node's agent counts a
    restart, while the other nodes see a membership change and keep their count. So rank 0
    names the attempt with a fresh token and numbers it; every other rank proves that it read
    the live token, not one left by a dead attempt, by having rank 0 echo a token of its own.
    """
    wait = timedelta(seconds=timeout_s)
    if rank == 0:
        token = secrets.token_hex(8)
        attempt = store.add("cnnlab/attempts", 1) - 1
        store.set(f"cnnlab/{token}/attempt", str(attempt))
        store.set("cnnlab/current", token)
        for other in range(1, world):
            hello = f"cnnlab/{token}/hello{other}"
            try:
                store.wait([hello], wait)
            except dist.DistStoreError:
                raise CnnlabError(f"rank {other} of this torchrun job did not join within "
                                  f"{timeout_s:.0f}s") from None
            store.set(f"cnnlab/{token}/welcome{other}", store.get(hello))
        return f"cnnlab/{token}", attempt
    mine, deadline = secrets.token_hex(8), time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        token = store.get("cnnlab/current").decode()
        store.set(f"cnnlab/{token}/hello{rank}", mine)
        welcome = f"cnnlab/{token}/welcome{rank}"
        try:
            store.wait([welcome], timedelta(seconds=2))
        except dist.DistStoreError:  # a token whose rank 0 is gone: read it again
            continue
        if store.get(welcome).decode() == mine:
            return f"cnnlab/{token}", int(store.get(f"cnnlab/{token}/attempt"))
        time.sleep(0.2)  # a welcome left by a dead attempt: the new token is not out yet
    raise CnnlabError(f"rank {rank}: rank 0 of this torchrun job did not answer within "
                      f"{timeout_s:.0f}s")


def teardown(ctx: DistContext) -> None:
    if ctx.enabled and dist.is_initialized():
        dist.destroy_process_group()


def all_reduce_sum(values: torch.Tensor, ctx: DistContext) -> torch.Tensor:
    """Sum a tensor over ranks (returned on the CPU); a no-op in a single process."""
    return _all_reduce(values, ctx, dist.ReduceOp.SUM)


def _all_reduce(values: torch.Tensor, ctx: DistContext,
                op: dist.ReduceOp.RedOpType) -> torch.Tensor:
    if not ctx.enabled:
        return values.cpu()
    work = values.to(ctx.device if ctx.device.type == "cuda" else "cpu").clone()
    dist.all_reduce(work, op=op)
    return work.cpu()


def agreed_signal(received: int | None, ctx: DistContext) -> int | None:
    """The stop signal that some rank received (the highest number when several did), or
    None; every rank gets the same answer. Under torchrun every rank calls it after every step
    (one small all-reduce), so that all stop after the same step: torchrun's agent passes a
    SIGINT or SIGTERM on to each process, and they see it at different moments."""
    if not ctx.enabled:
        return received
    agreed = int(_all_reduce(torch.tensor([received or 0]), ctx, dist.ReduceOp.MAX)[0])
    return agreed or None


def any_rank(flag: bool, ctx: DistContext) -> bool:
    """True when ``flag`` is true on at least one rank (every rank gets the same answer)."""
    return bool(all_reduce_sum(torch.tensor([float(flag)]), ctx)[0] > 0)


def barrier(ctx: DistContext) -> None:
    if ctx.enabled:
        dist.barrier()


def gather_to_main(obj: Any, ctx: DistContext) -> list[Any] | None:
    """Every rank's ``obj`` in rank order on the main rank, None on the others.

    This is how only rank 0 writes: the others hand it what they would have written. The
    objects travel pickled in memory between the run's own processes (torch's
    ``gather_object``); nothing read from disk is unpickled."""
    if not ctx.enabled:
        return [obj]
    gathered: list[Any] | None = [None] * ctx.world if ctx.main else None
    dist.gather_object(obj, gathered, dst=0)
    return gathered


def on_main(ctx: DistContext, action: Callable[[], T]) -> T | None:
    """Run ``action`` on the main rank only (a write into the run folder, taking its lock);
    every rank waits for it. When it fails with a ``CnnlabError`` or ``OSError`` (full disk,
    read-only folder), the main rank raises that and every other rank a ``PeerError``
    naming it, so that no rank carries on alone. Returns the action's result on the main
    rank, None elsewhere."""
    result, failure = None, None
    try:
        if ctx.main:
            result = action()
    except (CnnlabError, OSError) as err:
        failure = err
    if ctx.enabled:
        box = [None if failure is None else str(failure) or type(failure).__name__]
        dist.broadcast_object_list(box, src=0)
        if box[0] is not None and not ctx.main:
            raise PeerError(f"rank 0 stopped: {box[0]}")
    if failure is not None:
        raise failure
    return result


def launch_local(nproc: int, argv: list[str], max_restarts: int = 0) -> int:
    """``cnnlab train --nproc N``: run the command in N processes under torchrun's agent,
    which runs in this process.

    Returns 0; 1 when a process failed (it printed its error); 128 + S when signal S (Ctrl-C,
    SIGTERM) stopped the run: the agent passes it on to every process, they stop after the
    same step with the state saved, and rank 0 prints the one line. The agent's own lines
    (a failed process's exit code after it printed its error, torchrun's traceback for a
    signal) are kept out unless $LOGLEVEL asks for them.
    ``argv`` is the command line without ``--nproc``.
    """
    from torch.distributed.elastic.multiprocessing.api import SignalException
    from torch.distributed.elastic.multiprocessing.errors import ChildFailedError
    from torch.distributed.run import get_args_parser, run

    if nproc < 1:
        raise CnnlabError(f"--nproc must be >= 1, got {nproc}")
    if "LOGLEVEL" not in os.environ:  # torch sets each of its loggers' level
        for name in list(logging.Logger.manager.loggerDict):
            if name.startswith("torch.distributed"):
                logging.getLogger(name).setLevel(logging.CRITICAL)
    args = get_args_parser().parse_args(
        ["--standalone", f"--nproc-per-node={nproc}", f"--max-restarts={max_restarts}",
         "-m", "cnnlab", *argv])
    try:
        run(args)
    except SignalException as stop:
        return 128 + int(stop.sigval)
    except ChildFailedError:
        return 1
    return 0
