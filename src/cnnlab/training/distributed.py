"""Distributed training helpers: torchrun's environment, DDP, reductions, the --nproc launcher.

``torchrun --nproc-per-node N -m cnnlab train ...`` starts N copies of the command with RANK,
WORLD_SIZE, LOCAL_RANK and MASTER_ADDR/PORT set; ``setup`` reads them and joins the process
group (NCCL on CUDA, gloo on the CPU). Without those variables the run is a single process and
nothing here talks to the network.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field

import torch
import torch.distributed as dist

from cnnlab.device import pick_device
from cnnlab.errors import CnnlabError


@dataclass(frozen=True)
class DistContext:
    """Where this process sits: rank in [0, world), its device, and the torchrun restart count."""

    rank: int = 0
    world: int = 1
    local_rank: int = 0
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))
    restart: int = 0

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
    restart = int(os.environ.get("TORCHELASTIC_RESTART_COUNT", "0"))
    if world <= 1:
        return DistContext(device=pick_device(device_name), restart=restart)
    rank, local_rank = int(os.environ["RANK"]), int(os.environ.get("LOCAL_RANK", "0"))
    device = pick_device(device_name)
    if device.type == "cuda":
        device = torch.device("cuda", local_rank)
        torch.cuda.set_device(device)
    if not dist.is_initialized():
        # A restarted attempt can find the dead attempt's addresses in torchrun's store and
        # fail to connect (gloo "Connection refused"); a key prefix per attempt keeps them apart.
        store, _, _ = next(dist.rendezvous("env://", rank=rank, world_size=world))
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo",
                                store=dist.PrefixStore(f"cnnlab-attempt-{restart}", store),
                                rank=rank, world_size=world)
    return DistContext(rank, world, local_rank, device, restart)


def teardown(ctx: DistContext) -> None:
    if ctx.enabled and dist.is_initialized():
        dist.destroy_process_group()


def all_reduce_sum(values: torch.Tensor, ctx: DistContext) -> torch.Tensor:
    """Sum a tensor over ranks (returned on the CPU); a no-op in a single process."""
    if not ctx.enabled:
        return values.cpu()
    work = values.to(ctx.device if ctx.device.type == "cuda" else "cpu").clone()
    dist.all_reduce(work, op=dist.ReduceOp.SUM)
    return work.cpu()


def any_rank(flag: bool, ctx: DistContext) -> bool:
    """True when ``flag`` is true on at least one rank (every rank gets the same answer)."""
    return bool(all_reduce_sum(torch.tensor([float(flag)]), ctx)[0] > 0)


def barrier(ctx: DistContext) -> None:
    if ctx.enabled:
        dist.barrier()


def launch_local(nproc: int, argv: list[str], max_restarts: int = 0) -> int:
    """``cnnlab train --nproc N``: rerun the command under torchrun on this machine.

    Returns torchrun's exit status. ``argv`` is the command line without ``--nproc``.
    """
    import subprocess

    if nproc < 1:
        raise CnnlabError(f"--nproc must be >= 1, got {nproc}")
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone",
               f"--nproc-per-node={nproc}", f"--max-restarts={max_restarts}", "-m", "cnnlab",
               *argv]
    return subprocess.call(command)
