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
``auto`` is the faster of the installed runtimes (AUTO_CANDIDATES) for the model, batch size
and thread count at hand, timed on first use and remembered (cnnlab.inference.autotune).
"""

from __future__ import annotations

import logging
import platform
import time
from collections.abc import Callable
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import torch
from torch import nn

from cnnlab.errors import CnnlabError
from cnnlab.inference import autotune
from cnnlab.inference.export import cached_onnx
from cnnlab.inference.onnx_runtime import ort_session
from cnnlab.inference.openvino_runtime import openvino_installed, ov_compiled
from cnnlab.inference.time_runtime import child_timer

BACKENDS = ("eager", "channels_last", "compile", "onnxruntime", "openvino")
# What ``auto`` chooses among: the fp32 runtimes that beat torch on every model and batch
# benchmarks/bench_inference.py measured (eager, channels_last and compile never did there).
AUTO_CANDIDATES = ("onnxruntime", "openvino")


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
        self.run = self.model
        if name == "compile":
            # inductor's C++ toolchain probe logs "No CUDA runtime is found" on CPU-only hosts
            logging.getLogger("torch.utils.cpp_extension").setLevel(logging.ERROR)
            self.run = torch.compile(self.model)

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


def auto_candidates() -> tuple[str, ...]:
    """The installed backends of AUTO_CANDIDATES."""
    return tuple(b for b in AUTO_CANDIDATES if b in installed_backends())


def check_backend(name: str) -> str:
    """``name`` if it is ``auto`` or an installed backend; a one-line CnnlabError otherwise."""
    if name != "auto" and name not in BACKENDS:
        raise CnnlabError(f"unknown backend {name!r}: choose from auto, {', '.join(BACKENDS)}")
    if name != "auto" and name not in installed_backends():
        raise CnnlabError(f"backend {name!r} is not installed: pip install 'cnnlab[{name}]'")
    return name


def _versions() -> dict[str, str]:
    found = {}
    for package in ("torch", "onnxruntime", "openvino"):
        try:
            found[package] = version(package)
        except PackageNotFoundError:
            continue
    return found


def _cpu_model() -> str:
    try:  # platform.processor() is empty on Linux; /proc/cpuinfo names the model
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def auto_choice(model: nn.Module, input_size: tuple[int, int, int] | list[int],
                batch: int = 1, use_cache: bool = True,
                onnx_path: str | Path | None = None) -> autotune.Choice:
    """The backend ``auto`` stands for with ``model`` (CPU, eval mode) at ``batch`` images per
    call and torch's thread count: the fastest of auto_candidates() on the model's cached ONNX
    export (``onnx_path``, when the caller has it), timed on random N x C x H x W images, each
    runtime in a process of its own, on first use, and remembered (cnnlab.inference.autotune)."""
    candidates = auto_candidates()
    if len(candidates) == 1:  # nothing to choose between: no export, no timing
        return autotune.Choice(candidates[0])
    path = Path(onnx_path) if onnx_path else cached_onnx(model, input_size)
    # the export's name holds the model's name and a hash of its weights and input size
    key = "|".join([path.stem, f"batch={batch}", f"threads={torch.get_num_threads()}",
                    _cpu_model(), ",".join(f"{k}={v}" for k, v in _versions().items())])
    timers = {b: child_timer(b, path, [batch, *input_size], torch.get_num_threads())
              for b in candidates}
    return autotune.fastest(timers, key, use_cache)


def load_backend(name: str, model: nn.Module, input_size: tuple[int, int, int] | list[int],
                 batch: int = 1) -> Backend:
    """Wrap ``model`` (eval mode, CPU) in backend ``name`` (``auto``: the fastest for ``batch``
    images per call, auto_choice); ``input_size`` is C x H x W."""
    onnx_path = None
    if check_backend(name) == "auto":
        model = model.eval().cpu()
        onnx_path = cached_onnx(model, input_size)  # hashed once, for the choice and the runner
        name = auto_choice(model, input_size, batch, onnx_path=onnx_path).name
    if name == "onnxruntime":
        return OrtBackend(model.eval().cpu(), input_size, onnx_path)
    if name == "openvino":
        return OvBackend(model.eval().cpu(), input_size, onnx_path)
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
