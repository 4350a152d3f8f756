"""benchmarks/bench_gpu.py's measurements are device-agnostic: they run here on the CPU at toy
sizes, and the script itself refuses in one line when there is no CUDA device."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest
import torch

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_gpu.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("bench_gpu", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_without_cuda_it_says_so_in_one_line(bench, monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(sys, "argv", ["bench_gpu.py"])
    with pytest.raises(SystemExit) as stop:
        bench.main()
    message = str(stop.value.code)
    assert "no CUDA device" in message and "\n" not in message


@pytest.mark.parametrize(("bf16", "channels_last"), [(False, False), (True, True)])
def test_training_throughput_runs_on_the_cpu(bench, bf16, channels_last):
    row = bench.train_throughput("resnet20", 4, 32, 1, torch.device("cpu"), bf16=bf16,
                                 channels_last=channels_last, compile_model=False)
    assert row["images_per_s"] > 0 and row["tflops"] > 0
    assert bench.mfu(row["tflops"], torch.device("cpu")) is None


def test_flops_per_step_counts_forward_and_backward(bench):
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(12, 5))
    x, y = torch.randn(3, 12), torch.zeros(3, dtype=torch.long)
    # forward 3x12x5 MACs and as many for the weight gradient (the input needs no gradient),
    # 2 FLOPs per MAC
    assert bench.flops_per_step(model, x, y) == 2 * 2 * (3 * 12 * 5)


def test_inference_rows_time_each_backend(bench):
    rows = bench.inference_rows("smallcnn", torch.device("cpu"), [1, 2], [1], repeats=2,
                                backends=("eager", "channels_last"))
    assert [(r["backend"], r["batch"]) for r in rows] == [
        ("eager", 1), ("eager", 2), ("channels_last", 1), ("channels_last", 2)]
    assert all(r["where"] == "cpu" and r["images_per_s"] > 0 for r in rows)
