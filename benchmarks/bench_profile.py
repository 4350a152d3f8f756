"""Time and peak memory to profile the zoo, cnnlab vs torchinfo, fvcore, ptflops and thop.

    .venv/bin/python benchmarks/bench_profile.py                  # whole zoo at 224, VGG-16 at 1024
    .venv/bin/python benchmarks/bench_profile.py --models alexnet,resnet50 --skip-1024

Each tool runs in a subprocess of its own, so its peak resident memory (ru_maxrss) is its own;
"over base" subtracts the memory of that process right after its imports. cnnlab builds the
models on the meta device and traces shapes only; the peers need real weights and run a real
forward pass (their model build time is printed apart, not in their profiling time). Every
tool's parameter and MAC totals are printed beside cnnlab's, as a ratio.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time

TOOLS = ["cnnlab", "torchinfo", "fvcore", "ptflops", "thop"]


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def _count(tool: str, model, size: tuple[int, int, int]) -> tuple[int, int]:
    """(parameters, MACs) as ``tool`` reports them for one image of ``size``."""
    import torch

    if tool == "cnnlab":
        from cnnlab.complexity.profiler import profile

        p = profile(model, size)
        return p.params, p.macs
    x = torch.zeros(1, *size)
    with torch.no_grad():
        if tool == "torchinfo":
            import torchinfo

            s = torchinfo.summary(model, input_data=x, verbose=0)
            return s.total_params, s.total_mult_adds
        if tool == "fvcore":
            from fvcore.nn import FlopCountAnalysis

            analysis = FlopCountAnalysis(model, x)
            analysis.unsupported_ops_warnings(False).uncalled_modules_warnings(False)
            return sum(t.numel() for t in model.parameters()), int(analysis.total())
        if tool == "ptflops":
            from ptflops import get_model_complexity_info

            macs, params = get_model_complexity_info(model, size, as_strings=False,
                                                     print_per_layer_stat=False, verbose=False)
            return int(params), int(macs)
        if tool == "thop":
            import thop

            macs, params = thop.profile(model, inputs=(x,), verbose=False)
            return int(params), int(macs)
    raise ValueError(tool)


def worker(tool: str, names: list[str], side: int) -> dict:
    """Profile ``names`` at side x side with ``tool``; time, totals and memory per model."""
    import torch

    from cnnlab.models import get_model, model_info
    from cnnlab.runs import meta_model

    torch.set_num_threads(1)
    # First calls import torch's lazy machinery (meta kernels, refs, jit): a one-time cost of
    # the process, timed apart so that the per-model times compare the tools themselves.
    start = time.perf_counter()
    warm = meta_model("smallcnn")[0] if tool == "cnnlab" else get_model("smallcnn").eval()
    _count(tool, warm, (1, 28, 28))
    warmup = time.perf_counter() - start
    base = _rss_mb()
    rows = []
    for name in names:
        size = (model_info(name).input_size[0], side, side)
        start = time.perf_counter()
        model = meta_model(name)[0] if tool == "cnnlab" else get_model(name).eval()
        built = time.perf_counter()
        params, macs = _count(tool, model, size)
        done = time.perf_counter()
        rows.append({"model": name, "build_s": built - start, "profile_s": done - built,
                     "params": params, "macs": macs})
        del model
    return {"tool": tool, "side": side, "rows": rows, "base_mb": base, "peak_mb": _rss_mb(),
            "warmup_s": warmup}


def run_tool(tool: str, names: list[str], side: int) -> dict:
    """One tool in a fresh process (its own peak memory); an error is reported, not raised."""
    cmd = [sys.executable, __file__, "--worker", tool, "--models", ",".join(names),
           "--side", str(side)]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        return {"tool": tool, "side": side, "error": done.stderr.strip().splitlines()[-1:]}
    return json.loads(done.stdout.strip().splitlines()[-1])


def report(results: list[dict], title: str) -> None:
    print(f"\n## {title}\n")
    ours = next(r for r in results if r["tool"] == "cnnlab")
    t_ours = sum(row["profile_s"] for row in ours["rows"])
    print("| tool | profile time (s) | vs cnnlab | first-call warm-up (s) | model build (s) | "
          "peak RSS (MB) | over base (MB) | params / cnnlab | MACs / cnnlab |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in results:
        if "error" in r:
            print(f"| {r['tool']} | failed: {' '.join(r['error'])} | | | | | | | |")
            continue
        t = sum(row["profile_s"] for row in r["rows"])
        build = sum(row["build_s"] for row in r["rows"])
        p_ratio = sum(a["params"] for a in r["rows"]) / sum(b["params"] for b in ours["rows"])
        m_ratio = sum(a["macs"] for a in r["rows"]) / sum(b["macs"] for b in ours["rows"])
        print(f"| {r['tool']} | {t:.2f} | {t / t_ours:.1f}x | {r['warmup_s']:.2f} | {build:.2f} | "
              f"{r['peak_mb']:.0f} | "
              f"{r['peak_mb'] - r['base_mb']:.0f} | {p_ratio:.4f} | {m_ratio:.4f} |")
    per_model(results)


def per_model(results: list[dict]) -> None:
    ok = [r for r in results if "error" not in r]
    print("\nMACs per model (millions), each tool / cnnlab ('=' when exactly equal):\n")
    print("| model | cnnlab MACs (M) | " + " | ".join(r["tool"] for r in ok[1:]) + " |")
    print("|---|---:|" + "---:|" * (len(ok) - 1))
    for i, row in enumerate(ok[0]["rows"]):
        cells = []
        for r in ok[1:]:
            ratio = r["rows"][i]["macs"] / row["macs"]
            cells.append("=" if r["rows"][i]["macs"] == row["macs"] else f"{ratio:.5f}")
        print(f"| {row['model']} | {row['macs'] / 1e6:,.1f} | " + " | ".join(cells) + " |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--worker", choices=TOOLS)
    parser.add_argument("--models", default="", help="comma-separated (default: the zoo)")
    parser.add_argument("--side", type=int, default=224)
    parser.add_argument("--tools", default=",".join(TOOLS))
    parser.add_argument("--skip-1024", action="store_true", help="skip VGG-16 at 1024x1024")
    args = parser.parse_args()
    from cnnlab.models import list_models

    names = [n for n in args.models.split(",") if n] or list_models()
    if args.worker:
        print(json.dumps(worker(args.worker, names, args.side)))
        return
    tools = [t for t in args.tools.split(",") if t]
    if tools[0] != "cnnlab":
        tools = ["cnnlab", *[t for t in tools if t != "cnnlab"]]
    report([run_tool(t, names, args.side) for t in tools],
           f"The zoo ({len(names)} models) at {args.side}x{args.side}")
    if not args.skip_1024:
        report([run_tool(t, ["vgg16"], 1024) for t in tools], "VGG-16 at 1024x1024")


if __name__ == "__main__":
    main()
