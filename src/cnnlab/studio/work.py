"""Blocking work off the event loop, with a time limit, so one slow request does not stall the
pages of others."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TypeVar

import anyio
import anyio.to_thread

from cnnlab.studio.config import StudioConfig
from cnnlab.studio.http import ApiError

T = TypeVar("T")
# Heavy requests share these threads and the rest wait: on a 2-core laptop more threads would
# only slow every request down together.
WORKERS = anyio.CapacityLimiter(4)


class _Running:
    """A thread-safe count of the computations inside worker threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.count = 0

    def add(self, step: int) -> None:
        with self._lock:
            self.count += step


_RUNNING = _Running()


def running() -> int:
    """How many computations are running in worker threads now (abandoned ones included)."""
    return _RUNNING.count


def wait_idle(timeout_s: float) -> bool:
    """Wait until no computation is running, at most ``timeout_s`` seconds; True when idle.

    A server that stops should let its workers finish: a process that exits while a thread is
    inside native code (torch, OpenCV) can abort instead of exiting cleanly.
    """
    deadline = time.monotonic() + timeout_s
    while running() and time.monotonic() < deadline:
        time.sleep(0.05)
    return not running()


async def run_limited(fn: Callable[..., T], *args: object,
                      timeout_s: float = StudioConfig.time_limit_s) -> T:
    """``fn(*args)`` in a worker thread; its result, or an ``ApiError``: 503 when no worker
    became free within ``timeout_s`` seconds, 504 when the work itself ran longer.

    Python cannot stop a running thread, so a computation past its limit finishes in the
    background and its result is dropped; the limit bounds the wait, the worker count bounds
    the load.
    """
    started = threading.Event()

    def call() -> T:
        started.set()
        _RUNNING.add(1)
        try:
            return fn(*args)
        finally:
            _RUNNING.add(-1)

    try:
        with anyio.fail_after(timeout_s):
            return await anyio.to_thread.run_sync(call, limiter=WORKERS, abandon_on_cancel=True)
    except TimeoutError:
        if started.is_set():
            raise ApiError(504, f"the computation took longer than the studio's limit of "
                                f"{timeout_s:g} s; try a smaller image or kernel") from None
        raise ApiError(503, f"the studio is busy: no worker was free within {timeout_s:g} s; "
                            f"try again") from None
