"""Blocking work off the event loop, with a time limit, so one slow request does not stall the
pages of others."""

from __future__ import annotations

import threading
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
        return fn(*args)

    try:
        with anyio.fail_after(timeout_s):
            return await anyio.to_thread.run_sync(call, limiter=WORKERS, abandon_on_cancel=True)
    except TimeoutError:
        if started.is_set():
            raise ApiError(504, f"the computation took longer than the studio's limit of "
                                f"{timeout_s:g} s; try a smaller image or kernel") from None
        raise ApiError(503, f"the studio is busy: no worker was free within {timeout_s:g} s; "
                            f"try again") from None
