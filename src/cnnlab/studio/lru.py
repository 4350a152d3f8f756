"""The studio's one bounded cache: uploads, loaded models, a model's answers and run scores
all keep their ``kept`` most recently used values here, so memory stays bounded however many
the pages open. Thread-safe: handlers run in worker threads.

Written by hand because ``functools.lru_cache`` cannot be asked for a value without making it,
cannot take one that was made elsewhere, and would run one slow computation twice when two
requests ask for it at once.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class LRU(Generic[K, V]):
    """The ``kept`` (at least 1) most recently used values by key."""

    def __init__(self, kept: int) -> None:
        self.kept = max(1, kept)
        self._values: OrderedDict[K, V] = OrderedDict()
        self._lock = threading.Lock()
        self._making: dict[K, threading.Lock] = {}

    def get(self, key: K) -> V | None:
        """The value for ``key`` (now the most recent), or None."""
        with self._lock:
            value = self._values.get(key)
            if value is not None:
                self._values.move_to_end(key)
            return value

    def put(self, key: K, value: V) -> None:
        """Keep ``value`` for ``key``; the least recently used value goes past ``kept``."""
        with self._lock:
            self._values[key] = value
            self._values.move_to_end(key)
            while len(self._values) > self.kept:
                self._values.popitem(last=False)

    def held(self) -> list[K]:
        """The keys held, least recently used first."""
        with self._lock:
            return list(self._values)

    def get_or_make(self, key: K, make: Callable[[], V]) -> V:
        """The value for ``key``, made by ``make()`` in the calling thread when missing. Two
        callers asking for one key at once wait for a single ``make``; a ``make`` that raises
        is not remembered, so the next caller tries again."""
        with self._lock:
            gate = self._making.setdefault(key, threading.Lock())
        try:
            with gate:
                value = self.get(key)
                if value is None:
                    value = make()
                    self.put(key, value)
                return value
        finally:
            with self._lock:
                self._making.pop(key, None)
