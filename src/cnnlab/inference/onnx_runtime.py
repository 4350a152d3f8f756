"""ONNX Runtime sessions: how every ONNX file is run, by the export check and the backend."""

from __future__ import annotations

from pathlib import Path

import torch

from cnnlab.errors import CnnlabError


def ort_session(path: str | Path, threads: int | None = None):
    """An ONNX Runtime CPU session tuned for latency: every graph optimization, sequential
    execution, ``threads`` intra-op threads (default: torch's thread count)."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.intra_op_num_threads = threads or torch.get_num_threads()
    options.inter_op_num_threads = 1
    options.log_severity_level = 3  # errors only: ORT warns about unused initializers
    try:
        return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    except Exception as err:  # noqa: BLE001 - ORT raises its own exception types
        raise CnnlabError(f"{path}: ONNX Runtime cannot load it ({str(err).splitlines()[0]})")\
            from None
