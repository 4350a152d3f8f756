"""The default recipe (`cnnlab train`) against the plain PyTorch loop, same invocation.

Both train the same network (smallcnn) for the same number of epochs on the full
Fashion-MNIST: cnnlab with in-memory uint8 tensors, index batching, channels_last and its
default SGD + one-cycle recipe; the peer with torchvision's FashionMNIST + DataLoader
(ToTensor/Normalize), batch 64 and SGD at a constant rate (benchmarks/plain_loop.py).
Prints per-epoch test accuracy and cumulative training seconds (evaluation excluded), then the
time each needs to reach the accuracy both reach, and the ratio.

    .venv/bin/python benchmarks/bench_skeleton.py --epochs 5
"""

from __future__ import annotations

import argparse
import platform
import sys
import tempfile
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).parent))
from plain_loop import run_plain_loop

from cnnlab.models import get_model
from cnnlab.training import TrainConfig, train


def time_to_reach(curve: list[tuple[float, float]], target: float) -> float | None:
    """First cumulative training time at which accuracy >= target (None if never)."""
    return next((seconds for seconds, acc in curve if acc >= target), None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    print(f"machine: {platform.processor() or platform.machine()}, {torch.get_num_threads()} "
          f"threads; torch {torch.__version__}, python {platform.python_version()}")
    with tempfile.TemporaryDirectory() as tmp:
        result = train(TrainConfig(epochs=args.epochs, seed=args.seed, quiet=True,
                                   out=str(Path(tmp) / "run")))
    ours, clock = [], 0.0
    for row in result.rows:
        clock += row["seconds"]
        ours.append((clock, row["test_acc"]))
        print(f"cnnlab  epoch {row['epoch']}: {clock:7.1f}s  test acc {100 * row['test_acc']:.2f}%",
              flush=True)
    plain = run_plain_loop(
        args.epochs, batch_size=64, seed=args.seed, make_model=lambda: get_model("smallcnn"),
        make_optimizer=lambda p: torch.optim.SGD(p, lr=0.01, momentum=0.9, weight_decay=5e-4),
        on_epoch=lambda r: print(f"plain   epoch {r.epoch}: {r.train_seconds:7.1f}s  test acc "
                                 f"{100 * r.test_acc:.2f}%", flush=True))
    theirs = [(r.train_seconds, r.test_acc) for r in plain]
    target = min(max(a for _, a in ours), max(a for _, a in theirs))
    t_ours, t_theirs = time_to_reach(ours, target), time_to_reach(theirs, target)
    print(f"\nboth reach {100 * target:.2f}%: cnnlab after {t_ours:.1f}s, plain loop after "
          f"{t_theirs:.1f}s; speed-up {t_theirs / t_ours:.2f}x")
    print(f"seconds per epoch: cnnlab {ours[-1][0] / len(ours):.1f}, plain "
          f"{theirs[-1][0] / len(theirs):.1f}")


if __name__ == "__main__":
    main()
