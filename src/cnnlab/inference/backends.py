"""Inference backends: one model, five ways to run it on the CPU (or GPU).

  eager          the model as it is: NCHW float32, torch.inference_mode
  channels_last  weights and inputs in NHWC memory order (oneDNN's preferred layout)
  compile        torch.compile (inductor) of the channels_last model
  onnxruntime    the model exported to ONNX (cached, checked against torch), run by ONNX Runtime
                 with all graph optimizations (conv-BN folding, fusions) and one intra-op thread
                 per torch thread
  openvino       the same ONNX export compiled by OpenVINO's CPU plugin (optional package),
                 float32 pinned, one stream, one thread per torch thread

Every backend is an ``nn.Module`` that takes N x C x H x W float32 images and returns float32
logits on the CPU, so ``classify_images`` and the benchmark use them like the model itself.
``auto`` is the first installed backend of ``auto_order(batch)``: the order in which
benchmarks/bench_inference.py measured them fastest for that batch size
(benchmarks/results/inference.md).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import torch
from torch import nn

from cnnlab.errors import CnnlabError
from cnnlab.inference.export import cached_onnx
from cnnlab.inference.onnx_runtime import ort_session
from cnnlab.inference.openvino_runtime import openvino_installed, ov_compiled

BACKENDS = ("eager", "channels_last", "compile", "onnxruntime", "openvino")
# Fastest fp32 backend first, as benchmarks/bench_inference.py measured them for resnet50,
# googlenet and fastnet (benchmarks/results/inference.md): ONNX Runtime at batch 1 (a tie on
# resnet50, 2.4x on fastnet), OpenVINO from batch 16 (1.10x on resnet50, 1.09x on fastnet).
# Batches 2-15 were not measured and take the batch-1 order.
AUTO_ORDER = ("onnxruntime", "openvino")
AUTO_ORDER_LARGE, LARGE_BATCH = ("openvino", "onnxruntime"), 16


class Backend(nn.Module):
    """Runs a classifier one way; ``forward`` maps N x C x H x W images to N x K logits."""

    def __init__(self, name: str, model: nn.Module) -> None:
        super().__init__()
        self.backend = name
        self.num_classes = getattr(model, "num_classes", None)
        self.in_channels = getattr(model, "in_channels", None)


class TorchBackend(Backend):
    """eager, channels_last or compile."""

    def __init__(self, name: str, model: nn.Module) -> None:
        super().__init__(name, model)
        self.channels_last = name in ("channels_last", "compile")
        memory = torch.channels_last if self.channels_last else torch.contiguous_format
        self.model = model.eval().to(memory_format=memory)
        self.run = torch.compile(self.model) if name == "compile" else self.model

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """N x C x H x W float images -> N x K float32 logits, without autograd."""
        if self.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        with torch.inference_mode():
            return self.run(x).float()


class OrtBackend(Backend):
    """ONNX Runtime on the model's cached ONNX export."""

    def __init__(self, model: nn.Module, input_size: tuple[int, int, int] | list[int],
                 onnx_path: str | Path | None = None, threads: int | None = None) -> None:
        super().__init__("onnxruntime", model)
        self.onnx_path = Path(onnx_path) if onnx_path else cached_onnx(model, input_size)
        self.session = ort_session(self.onnx_path, threads)
        self.input_name = self.session.get_inputs()[0].name

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """N x C x H x W float images -> N x K float32 logits from the ONNX session, on the CPU."""
        array = x.detach().to("cpu", torch.float32).contiguous().numpy()
        return torch.from_numpy(self.session.run(None, {self.input_name: array})[0])


class OvBackend(Backend):
    """OpenVINO on the model's cached ONNX export, precision pinned (f32 unless asked)."""

    def __init__(self, model: nn.Module, input_size: tuple[int, int, int] | list[int],
                 onnx_path: str | Path | None = None, threads: int | None = None,
                 precision: str = "f32") -> None:
        super().__init__("openvino", model)
        self.onnx_path = Path(onnx_path) if onnx_path else cached_onnx(model, input_size)
        self.compiled = ov_compiled(self.onnx_path, threads, precision)
        self.request = self.compiled.create_infer_request()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """N x C x H x W float images -> N x K float32 logits from OpenVINO, on the CPU."""
        array = x.detach().to("cpu", torch.float32).contiguous().numpy()
        self.request.infer({0: array})
        # the output buffer belongs to the request and is overwritten by the next call
        return torch.from_numpy(self.request.get_output_tensor(0).data.copy())


def installed_backends() -> tuple[str, ...]:
    """BACKENDS whose packages are importable here (openvino is optional)."""
    return tuple(b for b in BACKENDS if b != "openvino" or openvino_installed())


def auto_order(batch: int = 1) -> tuple[str, ...]:
    """The measured order of the fp32 backends for ``batch`` images per call, fastest first."""
    return AUTO_ORDER_LARGE if batch >= LARGE_BATCH else AUTO_ORDER


def auto_backend(batch: int = 1) -> str:
    """The backend ``auto`` stands for at ``batch``: the first installed of auto_order."""
    return next(b for b in auto_order(batch) if b in installed_backends())


def resolve_backend(name: str, batch: int = 1) -> str:
    """``name`` checked, with ``auto`` replaced by ``auto_backend(batch)``."""
    if name == "auto":
        return auto_backend(batch)
    if name not in BACKENDS:
        raise CnnlabError(f"unknown backend {name!r}: choose from auto, {', '.join(BACKENDS)}")
    if name not in installed_backends():
        raise CnnlabError(f"backend {name!r} is not installed: pip install 'cnnlab[{name}]'")
    return name


def load_backend(name: str, model: nn.Module, input_size: tuple[int, int, int] | list[int],
                 batch: int = 1) -> Backend:
    """Wrap ``model`` (eval mode, CPU) in backend ``name`` (``auto``: the fastest for ``batch``
    images per call); ``input_size`` is C x H x W."""
    name = resolve_backend(name, batch)
    if name == "onnxruntime":
        return OrtBackend(model.eval().cpu(), input_size)
    if name == "openvino":
        return OvBackend(model.eval().cpu(), input_size)
    return TorchBackend(name, model)


def measure_latency(backend: Callable[[torch.Tensor], object], x: torch.Tensor,
                    warmup: int = 3, repeats: int = 10,
                    clock: Callable[[], float] = time.perf_counter) -> list[float]:
    """Seconds per call of ``backend(x)``, ``repeats`` times after ``warmup`` untimed calls
    (compile and ONNX Runtime do their one-time work in the first calls). ``clock`` may be
    ``time.process_time``: CPU seconds, the fair measure on a machine shared with other jobs."""
    for _ in range(warmup):
        backend(x)
    times = []
    for _ in range(repeats):
        start = clock()
        backend(x)
        times.append(clock() - start)
    return times
