"""The GPU figures of issue 17 in one prepared run, for a machine with a CUDA device.

  1. the fast recipe on CUDA: time to 94% test accuracy on Fashion-MNIST (seconds of training
     until the first epoch that reaches it), and the final accuracy;
  2. ResNet-50 training throughput (images/s) and model-FLOP utilization, fp32 NCHW eager
     against bf16 autocast + channels_last, with and without torch.compile (synthetic data
     on the device; FLOPs from torch.utils.flop_counter, peak from PEAK_TFLOPS);
  3. inference throughput per backend: the torch backends on the GPU (batch 1, 16, 256),
     ONNX Runtime and OpenVINO on the host CPU (batch 1, 16).

Writes benchmarks/results/gpu.md. Without a CUDA device it prints one line and exits 1,
having measured nothing. The functions take the device as an argument, so
tests/inference/test_bench_gpu.py runs them on the CPU at toy sizes.

    python benchmarks/bench_gpu.py
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch
import torch.nn.functional as F

from cnnlab.fileio import write_text
from cnnlab.inference.backends import installed_backends, load_backend, measure_latency
from cnnlab.models import get_model, model_info
from cnnlab.training.recipes import get_recipe, recipe_config
from cnnlab.training.trainer import train

PEAK_TFLOPS = {"H100": 989.0, "H200": 989.0, "A100": 312.0, "L4": 121.0}  # dense bf16, data sheets
OUT = Path(__file__).resolve().parent / "results" / "gpu.md"


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def fast_recipe(device: torch.device, target: float = 0.94, **overrides) -> dict:
    """Train the fast recipe on ``device``; seconds of training until ``target`` test accuracy."""
    recipe = get_recipe("fast")
    cfg = recipe_config("fast")
    with tempfile.TemporaryDirectory() as tmp:
        cfg.device, cfg.out, cfg.eval_every = str(device), str(Path(tmp) / "run"), 1
        for key, value in overrides.items():
            setattr(cfg, key, value)
        result = (recipe.train_fn or train)(cfg)
    rows, elapsed, reached = result.rows, 0.0, None
    for row in rows:
        elapsed += row.get("seconds", 0.0)
        if reached is None and row.get("test_acc", 0.0) >= target:
            reached = elapsed
    return {"epochs": len(rows), "final_acc": rows[-1].get("test_acc"),
            "train_seconds": result.train_seconds, "seconds_to_target": reached}


def flops_per_step(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor) -> int:
    """FLOPs (2 x MACs) of one forward + backward pass."""
    from torch.utils.flop_counter import FlopCounterMode

    with FlopCounterMode(display=False) as counter:
        F.cross_entropy(model(x), y).backward()
    model.zero_grad(set_to_none=True)
    return counter.get_total_flops()


def train_throughput(name: str, batch: int, size: int, steps: int, device: torch.device, *,
                     bf16: bool, channels_last: bool, compile_model: bool) -> dict:
    """Images/s of SGD training steps on synthetic data already on ``device``."""
    torch.manual_seed(0)
    model = get_model(name).to(device).train()
    memory = torch.channels_last if channels_last else torch.contiguous_format
    model = model.to(memory_format=memory)
    x = torch.randn(batch, 3, size, size, device=device).contiguous(memory_format=memory)
    y = torch.randint(0, model.num_classes, (batch,), device=device)
    flops = flops_per_step(model, x, y)
    run = torch.compile(model) if compile_model else model
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)

    def step() -> None:
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=bf16):
            loss = F.cross_entropy(run(x), y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    for _ in range(3):  # compile and cuDNN autotuning happen here
        step()
    _sync(device)
    start = time.perf_counter()
    for _ in range(steps):
        step()
    _sync(device)
    seconds = time.perf_counter() - start
    return {"images_per_s": batch * steps / seconds, "tflops": flops * steps / seconds / 1e12}


def mfu(tflops: float, device: torch.device) -> float | None:
    """Achieved / peak dense bf16 TFLOP/s of the card, when PEAK_TFLOPS knows it."""
    if device.type != "cuda":
        return None
    name = torch.cuda.get_device_name(device)
    peak = next((v for k, v in PEAK_TFLOPS.items() if k in name), None)
    return tflops / peak if peak else None


def inference_rows(name: str, device: torch.device, batches: list[int],
                   host_batches: list[int], repeats: int = 20,
                   backends: tuple[str, ...] | None = None) -> list[dict]:
    """Images/s per backend (default: all installed): torch backends on ``device``, the
    ONNX-based ones on the host CPU."""
    torch.manual_seed(0)
    size = model_info(name).input_size
    rows = []
    for backend in backends or installed_backends():
        on_device = backend in ("eager", "channels_last", "compile")
        where = device if on_device else torch.device("cpu")
        model = get_model(name).eval().to(where)
        runner = load_backend(backend, model, size)
        for batch in batches if on_device else host_batches:
            x = torch.randn(batch, *size, device=where)

            def call(images: torch.Tensor, runner=runner, where=where) -> None:
                runner(images)
                _sync(where)

            seconds = statistics.median(measure_latency(call, x, 3, repeats))
            rows.append({"backend": backend, "where": str(where), "batch": batch,
                         "ms": 1e3 * seconds, "images_per_s": batch / seconds})
    return rows


def _report(device: torch.device, fast: dict, training: list[tuple[str, dict]],
            inference: list[dict], command: str) -> str:
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "CPU"
    lines = [f"# On a GPU: {name} (issue 17, part 4)", "",
             f"torch {torch.__version__}, CUDA {torch.version.cuda}. Command: `{command}`.", "",
             "## Fast recipe on CUDA (Fashion-MNIST)", "",
             (f"Time to 94%: {fast['seconds_to_target']} s of training "
             f"(final accuracy {100 * fast['final_acc']:.2f}% after {fast['epochs']} epochs, "
             f"{fast['train_seconds']:.1f} s). For scale: airbench reaches 94% on CIFAR-10 in "
             "2.6 s on an A100."), "",
             "## ResNet-50 training throughput", "", "| setting | images/s | TFLOP/s | MFU |",
             "|---|---:|---:|---:|"]
    for label, row in training:
        share = mfu(row["tflops"], device)
        lines.append(f"| {label} | {row['images_per_s']:.0f} | {row['tflops']:.1f} | "
                     f"{'-' if share is None else f'{100 * share:.1f}%'} |")
    lines += ["", ("For scale: NVIDIA's reference ResNet-50 reaches about 2,500 images/s with AMP "
              "on one A100."), "", "## Inference per backend (resnet50)", "",
              "| backend | on | batch | ms/batch | images/s |", "|---|---|---:|---:|---:|"]
    lines += [f"| {r['backend']} | {r['where']} | {r['batch']} | {r['ms']:.2f} | "
              f"{r['images_per_s']:.0f} |" for r in inference]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=256, help="ResNet-50 training batch")
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    if not torch.cuda.is_available():
        raise SystemExit("bench_gpu: no CUDA device here; nothing measured "
                         "(run it on a machine with one)")
    device = torch.device("cuda")
    fast = fast_recipe(device)
    settings = [("fp32, NCHW, eager", False, False, False),
                ("bf16 autocast, channels_last", True, True, False),
                ("bf16 autocast, channels_last, compile", True, True, True)]
    training = [(label, train_throughput("resnet50", args.batch, 224, args.steps, device,
                                         bf16=b, channels_last=c, compile_model=k))
                for label, b, c, k in settings]
    inference = inference_rows("resnet50", device, [1, 16, 256], [1, 16])
    write_text(args.out, _report(device, fast, training, inference, " ".join(sys.argv)))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
