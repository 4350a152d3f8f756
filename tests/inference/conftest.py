"""Inference tests share one ONNX cache folder, so each model is exported once per worker."""

from __future__ import annotations

import os
from collections.abc import Callable

import pytest
import torch

from cnnlab.models import get_model


@pytest.fixture(scope="session", autouse=True)
def onnx_cache(tmp_path_factory):
    """Point $XDG_CACHE_HOME (and so the ONNX cache) at a temp folder for the session; under
    pytest-xdist the workers share it (writes are atomic, so two exports of one key are safe)."""
    old = os.environ.get("XDG_CACHE_HOME")
    base = tmp_path_factory.getbasetemp()
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    os.environ["XDG_CACHE_HOME"] = str(shared / "cnnlab-test-cache")
    yield os.environ["XDG_CACHE_HOME"]
    if old is None:
        os.environ.pop("XDG_CACHE_HOME", None)
    else:
        os.environ["XDG_CACHE_HOME"] = old


@pytest.fixture(scope="session")
def seeded_model() -> Callable[[str], torch.nn.Module]:
    """A function: name -> ``get_model(name)`` with the weights of seed 0, the same weights
    that `cnnlab benchmark infer NAME` uses, so the CLI tests hit the cached export."""

    def build(name: str) -> torch.nn.Module:
        torch.manual_seed(0)
        return get_model(name).eval()

    return build
