"""The Model explorer's speed on this CPU, each figure beside the bare library call it wraps.

- first paint: headless Chromium opens ``#/explorer/model/<name>`` on a server that has not
  seen the model (its caches emptied) until the block diagram and the profile table are drawn;
  beside it the library's part alone (``meta_model`` + ``profile`` + the block tree, and
  ``cnnlab profile``'s ``meta_model`` + ``profile``);
- one layer's 16 activation maps and Grad-CAM at 224x224 (resnet50, scikit-image's astronaut):
  the HTTP round trip of the endpoint (model loaded, answer cache emptied) beside
  ``activation_maps`` / ``cam_map`` on the same input in this process.

Repeats alternate the page's measurement and the bare call's (ABAB), so load from elsewhere
hits both.

    PYTHONPATH=src .venv/bin/python benchmarks/bench_explorer.py \
        --out benchmarks/results/explorer.md
"""

from __future__ import annotations

import argparse
import statistics
import sys
import threading
import time
from pathlib import Path

import httpx
import torch
import uvicorn
from playwright.sync_api import sync_playwright

from cnnlab.complexity.profiler import profile
from cnnlab.fileio import write_text
from cnnlab.imaging import load_sample
from cnnlab.inference.classify import preprocess_array
from cnnlab.runs import meta_model
from cnnlab.studio.api import explorer as explorer_api
from cnnlab.studio.config import StudioConfig
from cnnlab.studio.explorer_structure import block_tree
from cnnlab.studio.serve import bind
from cnnlab.studio.server import create_app
from cnnlab.studio.work import wait_idle
from cnnlab.visualize.activations import activation_maps
from cnnlab.visualize.attribution import cam_map
from cnnlab.visualize.inputs import load_subject

sys.path.insert(0, str(Path(__file__).parent))
from bench_studio import CHROMIUM_ARGS, machine

PAINT_MODELS = ("resnet50", "inception_v3")
MAP_MODEL, MAP_LAYER = "resnet50", "layer3"
IMAGE = {"photo": "sample:astronaut"}


def _ms(fn) -> float:
    start = time.perf_counter()
    fn()
    return 1000 * (time.perf_counter() - start)


def _row(what: str, values: list[float], ratio: str) -> str:
    """One table row: median, min, mean and spread in ms, and the ratio to the library."""
    spread = statistics.stdev(values) if len(values) > 1 else 0.0
    return (f"| {what} | {statistics.median(values):.0f} | {min(values):.0f} | "
            f"{statistics.mean(values):.0f} ± {spread:.0f} | {ratio} |")


def _ratio(ours: list[float], bare: list[float]) -> str:
    return f"{statistics.median(ours) / statistics.median(bare):.2f}"


class Server:
    """The studio app in this process (so its caches can be emptied between repeats)."""

    def __init__(self) -> None:
        self.app = create_app(StudioConfig(port=0, time_limit_s=300))
        sock = bind("127.0.0.1", 0)
        self.url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        self.server = uvicorn.Server(uvicorn.Config(self.app, log_level="warning",
                                                    access_log=False, lifespan="off"))
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [sock]},
                                       daemon=True)
        self.thread.start()
        while not self.server.started:
            time.sleep(0.02)

    def forget(self) -> None:
        explorer_api._profile_once.cache_clear()
        store = getattr(self.app.state, "explorer", None)
        for loaded in getattr(store, "_models", {}).values():
            loaded.answers.clear()

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)


def _bare_structure(name: str) -> None:
    model, size = meta_model(name)
    block_tree(model, size, profile(model, size))


def _paint_ms(browser, url: str) -> float:
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    start = time.perf_counter()
    page.goto(url)
    page.wait_for_selector("[data-testid=profile-layers] tr[data-layer]", timeout=300_000)
    page.wait_for_selector("[data-testid=tree] details", timeout=300_000)
    elapsed = 1000 * (time.perf_counter() - start)
    page.close()
    wait_idle(300)  # the page's top-5 request would otherwise run into the next repeat
    return elapsed


def first_paint(server: Server, repeats: int) -> list[str]:
    rows = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium",
                                             args=CHROMIUM_ARGS)
        for name in PAINT_MODELS:
            page_ms, bare_ms, profile_ms = [], [], []
            for _ in range(repeats + 1):  # the first round warms imports and the browser
                bare_ms.append(_ms(lambda name=name: _bare_structure(name)))
                profile_ms.append(_ms(lambda name=name: profile(*meta_model(name))))
                server.forget()
                page_ms.append(_paint_ms(browser, f"{server.url}/#/explorer/model/{name}"))
            page_ms, bare_ms, profile_ms = page_ms[1:], bare_ms[1:], profile_ms[1:]
            rows += [_row(f"{name}: page, blocks + table drawn (Chromium)", page_ms,
                          _ratio(page_ms, bare_ms)),
                     _row(f"{name}: library, meta_model + profile + block_tree", bare_ms, "1"),
                     _row(f"{name}: library, `cnnlab profile`'s meta_model + profile",
                          profile_ms, _ratio(profile_ms, bare_ms))]
        browser.close()
    return rows


def maps_and_cam(server: Server, repeats: int) -> list[str]:
    model, meta = load_subject(MAP_MODEL)
    x = preprocess_array(load_sample("astronaut", False), meta)
    body = {"model": MAP_MODEL, "image": IMAGE}
    cases = [("activations", {**body, "layer": MAP_LAYER, "top": 16},
              lambda: activation_maps(model, MAP_LAYER, x, 16),
              f"{MAP_LAYER}: 16 activation maps"),
             ("attribution", {**body, "method": "gradcam"},
              lambda: cam_map(model, x, "gradcam", classes=meta["classes"]),
              "Grad-CAM (at the last spatial layer, layer4)")]
    rows = []
    with httpx.Client(timeout=600) as client:
        client.post(f"{server.url}/api/explorer/predict", json=body).raise_for_status()
        for path, request, bare, what in cases:
            api_ms, bare_ms = [], []
            for _ in range(repeats + 1):
                bare_ms.append(_ms(bare))
                server.forget()
                url = f"{server.url}/api/explorer/{path}"
                api_ms.append(_ms(lambda url=url, request=request:
                                  client.post(url, json=request).raise_for_status()))
            api_ms, bare_ms = api_ms[1:], bare_ms[1:]
            rows += [_row(f"{MAP_MODEL} 224x224 {what}: endpoint round trip", api_ms,
                          _ratio(api_ms, bare_ms)),
                     _row(f"{MAP_MODEL} 224x224 {what}: library call", bare_ms, "1")]
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/explorer.md"))
    args = parser.parse_args()
    server = Server()
    try:
        paint = first_paint(server, args.repeats)
        maps = maps_and_cam(server, args.repeats)
    finally:
        server.stop()
    head = ("| what | median ms | min ms | mean ± sd ms | ratio to the library |\n"
            "|---|---|---|---|---|")
    text = "\n".join([
        "# Model explorer: first paint, activation maps, Grad-CAM", "",
        (f"Each page figure beside the bare library call it wraps, measured in the same run, "
         f"repeats alternating (ABAB), {args.repeats} repeats after one warm-up round. "
         f"The machine was shared with other jobs while this ran."), "",
        (f"Machine: {machine()}; torch {torch.__version__}, torch threads "
         f"{torch.get_num_threads()}."), "",
        ("Command: `PYTHONPATH=src .venv/bin/python benchmarks/bench_explorer.py "
         "--out benchmarks/results/explorer.md`"), "",
        "## First paint (structure and profile table from the meta device)", "", head, *paint,
        "", "## One layer's activation maps and Grad-CAM at 224x224", "", head, *maps, ""])
    write_text(args.out, text)
    print(text)


if __name__ == "__main__":
    main()
