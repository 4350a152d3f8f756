"""The studio's bounded cache: least recently used out, one make per key, failures retried."""

from __future__ import annotations

import threading
import time

import pytest

from cnnlab.studio.lru import LRU


def test_keeps_the_most_recently_used():
    cache = LRU(2)
    cache.put("a", 1)
    cache.put("b", 2)
    assert cache.get("a") == 1  # "a" is now newer than "b"
    cache.put("c", 3)
    assert cache.held() == ["a", "c"] and cache.get("b") is None


def test_two_callers_at_once_share_one_make():
    cache, calls = LRU(4), []

    def make():
        calls.append(1)
        time.sleep(0.2)
        return "value"

    results = []
    threads = [threading.Thread(target=lambda: results.append(cache.get_or_make("k", make)))
               for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == ["value"] * 3 and len(calls) == 1


def test_a_failed_make_is_tried_again():
    cache = LRU(4)
    with pytest.raises(RuntimeError):
        cache.get_or_make("k", lambda: (_ for _ in ()).throw(RuntimeError("no")))
    assert cache.get("k") is None
    assert cache.get_or_make("k", lambda: 5) == 5
