"""Ctrl-C and SIGTERM during training: finish the step, save the state there, say how to resume.

``StopSignals`` replaces the SIGINT and SIGTERM handlers while a run is in progress. The first
signal only sets ``received``; the loop looks at it after every step, saves the resumable state
at that step and raises ``cnnlab.errors.Interrupted`` (exit status 130 / 143 in the CLI). A
second signal stops at once without saving (the newest complete state stays). Outside the loop
(``deferring`` false: loading data, building the model) the first signal stops at once too.
Handlers can only be set in the main thread; elsewhere (a server's worker thread) the object
does nothing and signals keep their usual effect.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable
from types import FrameType
from typing import Any, Self

from cnnlab.errors import Interrupted

SIGNALS = (signal.SIGINT, signal.SIGTERM)


def signal_name(signum: int) -> str:
    """2 -> "SIGINT"."""
    return signal.Signals(signum).name


class StopSignals:
    """Context manager turning SIGINT / SIGTERM into a request to stop after the current step.

    ``message(signum)`` is the one line of an ``Interrupted`` raised at once (second signal, or
    a signal while not ``deferring``).
    """

    def __init__(self, message: Callable[[int], str]) -> None:
        self.message = message
        self.received: int | None = None
        self.deferring = False
        self._previous: dict[int, Any] = {}

    def __enter__(self) -> Self:
        if threading.current_thread() is threading.main_thread():
            for signum in SIGNALS:
                self._previous[signum] = signal.signal(signum, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)
        self._previous.clear()

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self.deferring and self.received is None:
            self.received = signum
            return
        raise Interrupted(signum, self.message(signum))
