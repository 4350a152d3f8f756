"""The plain PyTorch loop a user writes first: the peer that cnnlab's training is measured against.

torchvision's FashionMNIST dataset + DataLoader (ToTensor, Normalize), batch 64, shuffled,
no workers; a two-conv CNN; Adam at 1e-3; evaluation on the test split after every epoch.
The model and optimizer are parameters, so other benchmarks reuse the same loop (e.g. the
skeleton's smallcnn with SGD).

    python benchmarks/plain_loop.py --epochs 8 --seed 0

The raw IDX files are decompressed from the Debian copy (/usr/share/datasets/fashion-mnist, or
$CNNLAB_DATA) into a temporary torchvision root, so nothing is downloaded.
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import os
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

SYSTEM_DATA = Path(os.environ.get("CNNLAB_DATA", "/usr/share/datasets/fashion-mnist"))
RAW_FILES = ["train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
             "t10k-labels-idx1-ubyte"]


class TwoConvCNN(nn.Module):
    """conv3-32, ReLU, pool, conv3-64, ReLU, pool, FC-128, ReLU, FC-10 (the tutorial network)."""

    def __init__(self, num_classes: int = 10) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, 3, padding=1)
        self.conv2 = nn.Conv2d(32, 64, 3, padding=1)
        self.fc1 = nn.Linear(64 * 7 * 7, 128)
        self.fc2 = nn.Linear(128, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)  # N x 32 x 14 x 14
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)  # N x 64 x 7 x 7
        return self.fc2(F.relu(self.fc1(x.flatten(1))))


def adam(params) -> torch.optim.Optimizer:
    return torch.optim.Adam(params, lr=1e-3)


@dataclass
class EpochRow:
    """Cumulative training seconds (wall and this process's CPU; evaluation excluded) and the
    test accuracy after an epoch."""

    epoch: int
    train_seconds: float
    train_cpu_seconds: float
    test_acc: float


@contextlib.contextmanager
def torchvision_root(source: Path = SYSTEM_DATA) -> Iterator[Path]:
    """A temporary root with FashionMNIST/raw/ holding the decompressed IDX files of ``source``."""
    with tempfile.TemporaryDirectory(prefix="plain-loop-") as tmp:
        raw = Path(tmp) / "FashionMNIST" / "raw"
        raw.mkdir(parents=True)
        for stem in RAW_FILES:
            (raw / stem).write_bytes(gzip.decompress((source / f"{stem}.gz").read_bytes()))
        yield Path(tmp)


def _loaders(root: Path, batch_size: int, seed: int):
    from torchvision import datasets, transforms

    tf = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.2860,), (0.3530,))])
    train = datasets.FashionMNIST(str(root), train=True, transform=tf)
    test = datasets.FashionMNIST(str(root), train=False, transform=tf)
    order = torch.Generator().manual_seed(seed)
    return (torch.utils.data.DataLoader(train, batch_size=batch_size, shuffle=True,
                                        generator=order),
            torch.utils.data.DataLoader(test, batch_size=1000))


@torch.no_grad()
def _accuracy(model: nn.Module, loader) -> float:
    model.eval()
    correct = total = 0
    for x, y in loader:
        correct += int((model(x).argmax(1) == y).sum())
        total += y.numel()
    return correct / total


def run_plain_loop(
    epochs: int = 8, batch_size: int = 64, seed: int = 0,
    make_model: Callable[[], nn.Module] = TwoConvCNN,
    make_optimizer: Callable[..., torch.optim.Optimizer] = adam,
    on_epoch: Callable[[EpochRow], None] | None = None,
) -> list[EpochRow]:
    """Train ``make_model()`` with ``make_optimizer(params)``; one row per epoch."""
    torch.manual_seed(seed)
    rows: list[EpochRow] = []
    with torchvision_root() as root:
        train_loader, test_loader = _loaders(root, batch_size, seed)
        model = make_model()
        optimizer = make_optimizer(model.parameters())
        clock = cpu_clock = 0.0
        for epoch in range(1, epochs + 1):
            model.train()
            start, cpu_start = time.perf_counter(), time.process_time()
            for x, y in train_loader:
                loss = F.cross_entropy(model(x), y)
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
            clock += time.perf_counter() - start
            cpu_clock += time.process_time() - cpu_start
            rows.append(EpochRow(epoch, clock, cpu_clock, _accuracy(model, test_loader)))
            if on_epoch is not None:
                on_epoch(rows[-1])
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: default)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    run_plain_loop(args.epochs, seed=args.seed, on_epoch=lambda r: print(
        f"epoch {r.epoch}: {r.train_seconds:7.1f}s ({r.train_cpu_seconds:.1f} CPU s)  "
        f"test acc {100 * r.test_acc:.2f}%", flush=True))


if __name__ == "__main__":
    main()
