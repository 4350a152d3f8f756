"""Time per picture at 224x224 on the CPU: every ``cnnlab viz`` computation on a zoo model,
and, where one exists, the same computation called straight from Captum in the same run.

"ours" is the library call the CLI makes (computing the map, not drawing it); "ours + PNG"
adds the matplotlib figure. The peer is Captum's own call on the same model and input, so the
ratio shows what cnnlab's wrapping (target choice, in-place ReLU handling, upsampling) costs.
Grad-CAM++, filters, activations and receptive fields have no Captum peer; Grad-CAM++ is
compared with Grad-CAM. Times are the median of --repeats runs after one warm-up.

    .venv/bin/python benchmarks/bench_viz.py --model resnet18 --out benchmarks/results/viz.md
"""

from __future__ import annotations

import argparse
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import captum
import numpy as np
import torch
import torchvision

from cnnlab.fileio import write_text
from cnnlab.visualize import activations, attribution, filters, occlusion, receptive_field
from cnnlab.visualize.figures import denormalize
from cnnlab.visualize.inputs import load_subject


def _median(fn: Callable[[], object], repeats: int) -> float:
    fn()  # warm-up: allocator and thread-pool start
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _peers(model: torch.nn.Module, x: torch.Tensor, target: int, layer: str,
           meta: dict) -> dict[str, Callable[[], object]]:
    """Captum called directly: the work each of our methods hands to it."""
    from captum.attr import Deconvolution, GuidedBackprop, LayerGradCam, Occlusion, Saliency

    module = dict(model.named_modules())[layer]
    gray = occlusion.gray_value(meta, 3).view(1, 3, 1, 1).expand_as(x).contiguous()

    def prob(batch: torch.Tensor) -> torch.Tensor:
        return torch.softmax(model(batch), dim=1)[:, target]

    def no_grad_occlusion() -> object:
        with torch.no_grad():
            return Occlusion(prob).attribute(x, sliding_window_shapes=(3, 32, 32),
                                             strides=(3, 16, 16), baselines=gray,
                                             perturbations_per_eval=32)

    return {
        "saliency": lambda: Saliency(model).attribute(x.clone().requires_grad_(True),
                                                      target=target),
        "guided-backprop": lambda: GuidedBackprop(model).attribute(x.clone(), target=target),
        "deconvnet": lambda: Deconvolution(model).attribute(x.clone(), target=target),
        "gradcam": lambda: LayerGradCam(model, module).attribute(x, target=target),
        "occlusion": no_grad_occlusion,
    }


def _ours(model: torch.nn.Module, x: torch.Tensor, target: int, layer: str,
          meta: dict) -> dict[str, Callable[[], object]]:
    methods = {m: (lambda m=m: attribution.attribute(model, x, m, target=target))
               for m in attribution.METHODS}
    return {
        **methods,
        "occlusion": lambda: occlusion.occlusion_map(model, x, meta, target=target),
        "filters": lambda: filters.filter_grid(model),
        "activations": lambda: activations.activation_maps(model, layer, x, top=16),
        "receptive-field": lambda: receptive_field.receptive_field_map(model, x, layer),
    }


def _plotters(model: torch.nn.Module, x: torch.Tensor, meta: dict, folder: Path
              ) -> dict[str, Callable[[], object]]:
    image = denormalize(x, meta)
    plots: dict[str, Callable[[], object]] = {}
    for m in attribution.METHODS:
        result = attribution.attribute(model, x, m)
        plots[m] = lambda r=result: attribution.plot_attribution(r, image, folder / "a.png")
    occ = occlusion.occlusion_map(model, x, meta)
    plots["occlusion"] = lambda: occlusion.plot_occlusion(occ, image, folder / "o.png")
    grid = filters.filter_grid(model)
    plots["filters"] = lambda: filters.plot_filters(grid, folder / "f.png")
    return plots


def _machine() -> str:
    try:
        lscpu = subprocess.run(["lscpu"], capture_output=True, text=True, check=False).stdout
        return next(line.split(":", 1)[1].strip() for line in lscpu.splitlines()
                    if line.startswith("Model name"))
    except StopIteration:
        return platform.processor() or "unknown CPU"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="resnet18", help="a zoo name (random weights)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", help="write the Markdown table here too")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model, meta = load_subject(args.model)
    x = torch.randn(1, 3, 224, 224)
    target, layer = 1, "layer4" if args.model.startswith(("resnet", "resnext")) else None
    layer = layer or attribution.last_spatial_layer(model, (3, 224, 224))
    peers = _peers(model, x, target, layer, meta)
    with tempfile.TemporaryDirectory() as tmp:
        plots = _plotters(model, x, meta, Path(tmp))
        rows = []
        for name, ours in _ours(model, x, target, layer, meta).items():
            t_ours = _median(ours, args.repeats)
            t_png = t_ours + (_median(plots[name], args.repeats) if name in plots else 0.0)
            peer = peers.get(name)
            with attribution.no_inplace(model):  # Captum's ReLU hooks refuse in-place ReLUs
                t_peer = _median(peer, args.repeats) if peer else None
            rows.append((name, t_ours, t_png if name in plots else None, t_peer))
    header = (f"{args.model} at 224x224, {args.threads} threads, median of {args.repeats}; "
              f"{_machine()}; torch {torch.__version__}, torchvision {torchvision.__version__}, "
              f"captum {captum.__version__}")
    command = "`.venv/bin/python benchmarks/bench_viz.py " + " ".join(sys.argv[1:]) + "`"
    lines = [header, "", f"Command: {command}", "",
             "| picture | ours (s) | ours + PNG (s) | Captum direct (s) | ours / Captum |",
             "| --- | ---: | ---: | ---: | ---: |"]
    for name, t_ours, t_png, t_peer in rows:
        png = f"{t_png:.3f}" if t_png is not None else "-"
        peer = f"{t_peer:.3f}" if t_peer is not None else "-"
        ratio = f"{t_ours / t_peer:.2f}" if t_peer else "-"
        lines.append(f"| {name} | {t_ours:.3f} | {png} | {peer} | {ratio} |")
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out:
        write_text(args.out, text)


if __name__ == "__main__":
    np.set_printoptions(precision=3)
    main()
