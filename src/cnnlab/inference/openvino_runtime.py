"""OpenVINO (optional: ``pip install 'cnnlab[openvino]'``): the compiled model the backend runs.

OpenVINO reads the same cached, checked ONNX export that ONNX Runtime runs. Its CPU plugin
switches to bf16 by itself on CPUs with AVX-512 BF16 or AMX unless told otherwise, so the
precision is always pinned: ``f32`` for the backend and every figure compared with torch;
``bf16`` only when asked for (benchmarks/bench_inference.py reports it separately, with its
top-1 agreement with f32).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import torch

from cnnlab.errors import CnnlabError

PRECISIONS = ("f32", "bf16")


def openvino_installed() -> bool:
    """Whether the optional openvino package can be imported (without importing it)."""
    return importlib.util.find_spec("openvino") is not None


def ov_compiled(path: str | Path, threads: int | None = None, precision: str = "f32"):
    """An OpenVINO CPU model compiled for latency from an ONNX file: one stream, ``threads``
    inference threads (default: torch's thread count), inference precision ``precision``."""
    if precision not in PRECISIONS:
        raise CnnlabError(f"unknown OpenVINO precision {precision!r}: use f32 or bf16")
    if not openvino_installed():
        raise CnnlabError("the openvino backend needs OpenVINO: pip install 'cnnlab[openvino]'")
    import openvino as ov

    config = {"INFERENCE_PRECISION_HINT": precision, "PERFORMANCE_HINT": "LATENCY",
              "NUM_STREAMS": 1, "INFERENCE_NUM_THREADS": threads or torch.get_num_threads()}
    core = ov.Core()
    try:
        return core.compile_model(core.read_model(str(path)), "CPU", config)
    except Exception as err:  # noqa: BLE001 - OpenVINO raises its own exception types
        reason = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise CnnlabError(f"{path}: OpenVINO cannot compile it ({reason})") from None


def execution_precision(compiled) -> str:
    """The precision OpenVINO actually runs in ('f32' where the CPU has no bf16 support)."""
    value = str(compiled.get_property("INFERENCE_PRECISION_HINT")).lower()
    return "bf16" if "bf16" in value else "f32" if "32" in value else value
