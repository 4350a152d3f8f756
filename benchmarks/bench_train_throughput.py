"""Training throughput (images/s): cnnlab's training step against a plain reference loop, and
the image-file input pipeline's images/s, in the same run.

  ours       cnnlab.training.step.TrainStep on the registry model: in-memory uint8 batches
             normalized per batch, channels_last, foreach SGD (bf16 autocast on CUDA)
  reference  the loop a PyTorch user writes: torchvision's model where it has one (resnet50;
             torchvision has no CIFAR resnet20, so cnnlab's, in NCHW), a DataLoader over float
             tensors, NCHW, SGD, fp32
  pipeline   decoding + Inception crop at 224 of synthetic 320x240 JPEGs from an ImageFolder
             tree (cnnlab.data.loaders.TrainBatches), with 0 and --workers worker processes

Synthetic tensors (random images and labels) feed both training loops. Times are wall seconds
and this process's CPU seconds (all threads) over --steps steps after --warmup steps; on a
machine shared with other jobs the CPU-second rate is the steadier figure. Achieved FLOP/s come
from torch.utils.flop_counter (one step, forward + backward); on CUDA the model FLOP utilization
divides by the card's dense bf16 peak from PEAK_TFLOPS.

    python benchmarks/bench_train_throughput.py --threads 1 --steps 3
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import torch
import torch.nn.functional as F
import torchvision

from cnnlab.data.memory import InMemoryDataset
from cnnlab.models import get_model
from cnnlab.training.config import TrainConfig
from cnnlab.training.distributed import DistContext
from cnnlab.training.schedule import make_optimizer, make_scheduler
from cnnlab.training.step import TrainStep

PEAK_TFLOPS = {"H100": 989.0, "H200": 989.0, "A100": 312.0}  # dense bf16, vendor data sheets
CASES = [("resnet20", 32, 10, 128), ("resnet50", 224, 1000, 16)]


def _clock() -> tuple[float, float]:
    return time.perf_counter(), time.process_time()


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def flops_per_step(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor) -> int:
    """FLOPs (2 x MACs) of one forward + backward pass."""
    from torch.utils.flop_counter import FlopCounterMode

    with FlopCounterMode(display=False) as counter:
        F.cross_entropy(model(x), y).backward()
    model.zero_grad(set_to_none=True)
    return counter.get_total_flops()


def time_ours(name: str, size: int, classes: int, batch: int, steps: int, warmup: int,
              device: torch.device) -> dict:
    torch.manual_seed(0)
    n = batch * (steps + warmup)
    data = InMemoryDataset(torch.randint(0, 256, (n, 3, size, size), dtype=torch.uint8),
                         torch.randint(0, classes, (n,)), [str(i) for i in range(classes)],
                         (0.5, 0.5, 0.5), (0.25, 0.25, 0.25), "synthetic")
    cfg = TrainConfig(model=name, batch_size=batch, amp="bf16" if device.type == "cuda" else "none")
    model = get_model(name, num_classes=classes).to(device).to(memory_format=torch.channels_last)
    optimizer = make_optimizer(model, cfg)
    step = TrainStep(model, optimizer, make_scheduler(optimizer, cfg, steps + warmup), cfg,
                     DistContext(device=device), classes)
    model.train()
    for i in range(steps + warmup):
        if i == warmup:
            _sync(device)
            wall, cpu = _clock()
        idx = torch.arange(i * batch, (i + 1) * batch)
        x = data.normalize(data.images[idx].to(device, non_blocking=True))
        step(x.contiguous(memory_format=torch.channels_last), data.labels[idx].to(device))
    _sync(device)
    wall2, cpu2 = _clock()
    return {"wall": wall2 - wall, "cpu": cpu2 - cpu, "images": steps * batch, "model": model}


def reference_model(name: str, classes: int) -> torch.nn.Module:
    if name == "resnet50":
        return torchvision.models.resnet50(num_classes=classes)
    return get_model(name, num_classes=classes)  # torchvision has no CIFAR ResNet


def time_reference(name: str, size: int, classes: int, batch: int, steps: int, warmup: int,
                   device: torch.device) -> dict:
    torch.manual_seed(0)
    n = batch * (steps + warmup)
    dataset = torch.utils.data.TensorDataset(torch.randn(n, 3, size, size),
                                             torch.randint(0, classes, (n,)))
    loader = torch.utils.data.DataLoader(dataset, batch_size=batch, shuffle=True)
    model = reference_model(name, classes).to(device).train()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-4)
    for i, (x, y) in enumerate(loader):
        if i == warmup:
            _sync(device)
            wall, cpu = _clock()
        x, y = x.to(device), y.to(device)
        loss = F.cross_entropy(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    _sync(device)
    wall2, cpu2 = _clock()
    return {"wall": wall2 - wall, "cpu": cpu2 - cpu, "images": steps * batch}


def time_pipeline(workers: int, count: int, batch: int) -> dict:
    from PIL import Image

    from cnnlab.data import load_dataset
    from cnnlab.data.loaders import Sharding, TrainBatches
    from cnnlab.data.synthetic import class_images

    with tempfile.TemporaryDirectory() as tmp:
        labels = torch.arange(count) % 4
        for i, image in enumerate(class_images(labels.numpy(), (240, 320), 4)):
            folder = Path(tmp) / "train" / f"c{int(labels[i])}"
            folder.mkdir(parents=True, exist_ok=True)
            Image.fromarray(image).save(folder / f"{i}.jpg", quality=90)
        (Path(tmp) / "val").mkdir()
        data = load_dataset("imagefolder", "train", tmp)
        batches = TrainBatches(data, batch, ["inception"], seed=0, sharding=Sharding(),
                               image_size=224, workers=workers)
        wall, cpu = _clock()
        images = sum(b.images.shape[0] for _, b in batches.epoch(1))
        wall2, cpu2 = _clock()
    return {"wall": wall2 - wall, "cpu": cpu2 - cpu, "images": images}


def rate(result: dict, clock: str) -> float:
    return result["images"] / max(result[clock], 1e-9)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: default)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--pipeline-images", type=int, default=128)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    print(f"device {device}, torch {torch.__version__}, threads {torch.get_num_threads()}")
    print("| model | input | batch | ours img/s (wall) | reference img/s (wall) | ratio (wall) "
          "| ours img/s (CPU s) | reference img/s (CPU s) | ratio (CPU s) | GFLOP/step "
          "| achieved TFLOP/s |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for name, size, classes, batch in CASES:
        ours = time_ours(name, size, classes, batch, args.steps, args.warmup, device)
        ref = time_reference(name, size, classes, batch, args.steps, args.warmup, device)
        x = torch.randn(batch, 3, size, size, device=device)
        flops = flops_per_step(ours["model"], x, torch.zeros(batch, dtype=torch.long,
                                                             device=device))
        achieved = flops * args.steps / ours["wall"] / 1e12
        mfu = ""
        if device.type == "cuda":
            peak = next((v for k, v in PEAK_TFLOPS.items()
                         if k in torch.cuda.get_device_name()), None)
            mfu = f" (MFU {achieved / peak:.1%})" if peak else ""
        print(f"| {name} | {size}x{size} | {batch} | {rate(ours, 'wall'):.1f} | "
              f"{rate(ref, 'wall'):.1f} | {rate(ours, 'wall') / rate(ref, 'wall'):.2f}x | "
              f"{rate(ours, 'cpu'):.1f} | {rate(ref, 'cpu'):.1f} | "
              f"{rate(ours, 'cpu') / rate(ref, 'cpu'):.2f}x | {flops / 1e9:.1f} | "
              f"{achieved:.3f}{mfu} |")
    print("\n| input pipeline (Inception crop 224, JPEG 320x240) | img/s (wall) | img/s (CPU s, "
          "main process) |")
    print("|---|---|---|")
    for workers in (0, args.workers):
        result = time_pipeline(workers, args.pipeline_images, 32)
        print(f"| {workers} worker process(es) | {rate(result, 'wall'):.1f} | "
              f"{rate(result, 'cpu'):.1f} |")


if __name__ == "__main__":
    main()
