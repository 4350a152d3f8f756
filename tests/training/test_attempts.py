"""Ranks of a restarted torchrun attempt agree on its key prefix, never on a dead attempt's.

Each rank is a thread with its own client of one TCPStore on 127.0.0.1, as torchrun's workers
are clients of the agent's store.
"""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import torch.distributed as dist

from cnnlab.training.distributed import _join_attempt


def _client(server: dist.TCPStore) -> dist.TCPStore:
    return dist.TCPStore("127.0.0.1", server.port, is_master=False,
                         timeout=timedelta(seconds=20))


def _attempt(server: dist.TCPStore, world: int, delays: dict[int, float]) -> dict[int, tuple]:
    """Every rank joins (rank r after delays[r] seconds); returns rank -> (prefix, attempt)."""
    joined: dict[int, tuple] = {}

    def join(rank: int) -> None:
        time.sleep(delays.get(rank, 0.0))
        joined[rank] = _join_attempt(_client(server), rank, world, timeout_s=20)

    threads = [threading.Thread(target=join, args=(rank,)) for rank in range(world)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return joined


def test_a_restarted_attempt_gets_a_fresh_prefix_even_when_rank_0_comes_last():
    server = dist.TCPStore("127.0.0.1", 0, is_master=True, wait_for_workers=False,
                           timeout=timedelta(seconds=20))
    first = _attempt(server, 3, {})
    assert len(first) == 3 and len(set(first.values())) == 1
    prefix, number = first[0]
    assert number == 0
    # The next attempt's ranks 1 and 2 start first and find the dead attempt's token and
    # their welcomes still in the store; they must wait for the new rank 0's token.
    second = _attempt(server, 3, {0: 1.5})
    assert len(second) == 3 and len(set(second.values())) == 1
    assert second[0][0] != prefix and second[0][1] == 1
