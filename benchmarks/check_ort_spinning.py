"""Why ``auto`` times each runtime in a process of its own: ONNX Runtime's spinning pool threads.

In one process, an OpenVINO call made right after an ONNX Runtime call competes with ONNX
Runtime's intra-op threads, which spin-wait for more work after each call. This times OpenVINO
alone, then right after an ONNX Runtime call, with spinning on (ONNX Runtime's default) and off:

    python benchmarks/check_ort_spinning.py --model googlenet --batch 1

Each setting runs in a fresh process; prints median milliseconds per call.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

import numpy as np
import onnxruntime as ort
import torch

from cnnlab.inference.backends import measure_latency
from cnnlab.inference.export import cached_onnx
from cnnlab.inference.openvino_runtime import ov_compiled
from cnnlab.models import get_model, model_info


def _median_ms(call, repeats: int) -> float:
    return 1e3 * statistics.median(measure_latency(lambda _: call(), None, 1, repeats))


def measure(model: str, batch: int, spinning: bool, repeats: int) -> str:
    """One line: OpenVINO alone, OpenVINO right after ONNX Runtime, ONNX Runtime alone."""
    torch.manual_seed(0)
    size = model_info(model).input_size
    path = cached_onnx(get_model(model).eval(), size)
    threads = torch.get_num_threads()
    options = ort.SessionOptions()
    options.intra_op_num_threads, options.inter_op_num_threads = threads, 1
    options.add_session_config_entry("session.intra_op.allow_spinning", "1" if spinning else "0")
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    request = ov_compiled(path, threads).create_infer_request()
    x = np.random.default_rng(0).standard_normal((batch, *size), dtype=np.float32)

    def openvino() -> None:
        request.infer({0: x})

    def onnxruntime() -> None:
        session.run(None, {name: x})

    alone = _median_ms(openvino, repeats)
    after = []
    for _ in range(repeats):
        onnxruntime()
        start = time.perf_counter()
        openvino()
        after.append(time.perf_counter() - start)
    return (f"{model} batch {batch}, {threads} threads, ONNX Runtime spinning "
            f"{'on' if spinning else 'off'}: OpenVINO alone {alone:.1f} ms, right after an ONNX "
            f"Runtime call {1e3 * statistics.median(after):.1f} ms; ONNX Runtime "
            f"{_median_ms(onnxruntime, repeats):.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="googlenet")
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=9)
    parser.add_argument("--child", choices=("on", "off"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(measure(args.model, args.batch, args.child == "on", args.repeats))
        return
    for spinning in ("on", "off"):
        subprocess.run([sys.executable, __file__, "--child", spinning, "--model", args.model,
                        "--batch", str(args.batch), "--repeats", str(args.repeats)], check=True)


if __name__ == "__main__":
    main()
