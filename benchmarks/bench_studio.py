"""The studio's Kernels endpoint: a 512x512 RGB photo (scikit-image's astronaut) * sharpen 3x3.

Measured in one run: the library call the endpoint makes (``filter_image``, and with the
pixels encoded for the page), the server's own time for it (``server_ms`` in each answer), the
HTTP round trip from a client on the same machine, the time from a keystroke in a kernel cell
to the updated image in headless Chromium, and 20 concurrent clients for 30 s (requests/s,
p50/p95 latency, errors, the server's resident memory before and after). The server is the real
command, `cnnlab studio`, in its own process.

    PYTHONPATH=src .venv/bin/python benchmarks/bench_studio.py --out benchmarks/results/studio.md
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import numpy as np
import starlette
import uvicorn
from playwright.sync_api import sync_playwright

from cnnlab.convolution.apply import filter_image
from cnnlab.convolution.kernels import KERNELS
from cnnlab.fileio import write_text
from cnnlab.imaging import load_sample
from cnnlab.studio.http import pixels_payload

BODY = {"photo": "sample:astronaut", "kernel": "sharpen"}
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]
DEBOUNCE_MS = 150  # pages/kernels.js waits this long after the last keystroke


def _times_ms(fn: Callable[[], object], repeats: int) -> list[float]:
    fn()  # warm-up
    out = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        out.append(1000 * (time.perf_counter() - start))
    return out


def _row(name: str, ms: list[float]) -> str:
    ms_sorted = sorted(ms)
    p95 = ms_sorted[min(len(ms) - 1, int(0.95 * len(ms)))]
    return (f"| {name} | {statistics.median(ms):.1f} | {min(ms):.1f} | {p95:.1f} | "
            f"{statistics.mean(ms):.1f} ± {statistics.stdev(ms) if len(ms) > 1 else 0:.1f} |")


def start_server() -> tuple[subprocess.Popen, str]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen([sys.executable, "-m", "cnnlab", "studio", "--port", "0"],
                               stdout=subprocess.PIPE, text=True, env=env)
    line = process.stdout.readline()
    if not line.startswith("cnnlab studio at "):
        process.kill()
        raise SystemExit(f"the studio did not start: {line!r}")
    return process, line.split()[3].rstrip("/")


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def library_and_round_trip(url: str, repeats: int) -> tuple[list[str], float]:
    photo, kernel = load_sample("astronaut", False), KERNELS["sharpen"]
    library = _times_ms(lambda: filter_image(photo, kernel), repeats)
    encoded = _times_ms(lambda: pixels_payload(filter_image(photo, kernel).pixels), repeats)
    server, trips = [], []
    with httpx.Client(timeout=60) as client:
        client.post(f"{url}/api/kernels/apply", json=BODY).raise_for_status()  # warm-up
        for _ in range(repeats):
            start = time.perf_counter()
            answer = client.post(f"{url}/api/kernels/apply", json=BODY)
            answer.raise_for_status()
            server.append(answer.json()["server_ms"])
            trips.append(1000 * (time.perf_counter() - start))
    rows = [_row("library: `filter_image` (the call `cnnlab filter` makes)", library),
            _row("library + encoding the pixels for the page", encoded),
            _row("server time inside the endpoint (`server_ms`)", server),
            _row("HTTP round trip (httpx, keep-alive, JSON parsed)", trips)]
    return rows, statistics.median(trips) / statistics.median(library)


def keystroke_to_image(url: str, repeats: int) -> list[float]:
    """ms from a keydown in a kernel cell to the output canvas redrawn with the new kernel."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium",
                                             args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 900}, bypass_csp=True)
        page.goto(f"{url}/#/kernels")
        page.wait_for_selector("#page[data-ready=true]", timeout=120_000)
        page.evaluate("""() => {
          window.marks = [];
          const out = document.getElementById('output');
          document.getElementById('kernel-matrix').addEventListener('keydown',
            () => { window.keyAt = performance.now(); }, true);
          new MutationObserver(() => window.marks.push(performance.now() - window.keyAt))
            .observe(out, {attributes: true, attributeFilter: ['data-version']});
        }""")
        cell = page.locator("#kernel-matrix input[data-row='1'][data-col='1']")
        times = []
        for i in range(repeats + 1):
            cell.fill("")
            page.wait_for_timeout(400)  # let the emptied cell's request settle
            page.evaluate("window.marks = []")
            page.keyboard.type(str(4 + i % 2))
            page.wait_for_function("window.marks.length > 0", timeout=60_000)
            page.wait_for_timeout(300)
            if i:  # the first is a warm-up
                times.append(page.evaluate("window.marks[window.marks.length - 1]"))
        browser.close()
    return times


async def _load(url: str, clients: int, seconds: float) -> tuple[list[float], int, int]:
    latencies, errors = [], 0
    stop = time.perf_counter() + seconds

    async def one(client: httpx.AsyncClient) -> None:
        nonlocal errors
        while time.perf_counter() < stop:
            start = time.perf_counter()
            try:
                answer = await client.post(f"{url}/api/kernels/apply", json=BODY)
                ok = answer.status_code == 200 and answer.content.startswith(b'{"input"')
            except httpx.HTTPError:
                ok = False
            latencies.append(1000 * (time.perf_counter() - start))
            errors += not ok

    limits = httpx.Limits(max_connections=clients)
    async with httpx.AsyncClient(timeout=120, limits=limits) as client:
        await asyncio.gather(*(one(client) for _ in range(clients)))
    return latencies, errors, len(latencies)


def concurrency(url: str, pid: int, clients: int, seconds: float) -> list[str]:
    before = rss_mib(pid)
    start = time.perf_counter()
    latencies, errors, count = asyncio.run(_load(url, clients, seconds))
    elapsed = time.perf_counter() - start
    after = rss_mib(pid)
    ordered = sorted(latencies)
    return [(f"| {clients} | {elapsed:.1f} | {count} | {count / elapsed:.1f} | "
            f"{statistics.median(ordered):.0f} | {ordered[int(0.95 * (count - 1))]:.0f} | "
            f"{errors} | {before:.0f} -> {after:.0f} |")]


def machine() -> str:
    try:
        lscpu = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
        fields = dict(line.split(":", 1) for line in lscpu.splitlines() if ":" in line)
        model = fields.get("Model name", "unknown").strip()
        flags = fields.get("Flags", "").split()
        simd = " ".join(f for f in flags if f.startswith(("avx", "sse4", "fma")))
    except (OSError, subprocess.CalledProcessError):
        model, simd = platform.processor() or "unknown", ""
    return (f"{model}, {os.cpu_count()} logical CPUs (SIMD flags: {simd or 'n/a'}); Python "
            f"{platform.python_version()}, NumPy {np.__version__}, Starlette "
            f"{starlette.__version__}, uvicorn {uvicorn.__version__}, httpx {httpx.__version__}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--keystrokes", type=int, default=10)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--note", default="")
    parser.add_argument("--out", help="write the markdown report here")
    args = parser.parse_args()
    process, url = start_server()
    try:
        rows, overhead = library_and_round_trip(url, args.repeats)
        keys = keystroke_to_image(url, args.keystrokes)
        load = concurrency(url, process.pid, args.clients, args.seconds)
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=30)
    report = "\n".join([
        "| what | median (ms) | best (ms) | p95 (ms) | mean ± sd (ms) |",
        "|---|---:|---:|---:|---:|",
        *rows, _row(f"keystroke -> updated image in Chromium (includes the {DEBOUNCE_MS} ms "
                    "debounce)", keys), "",
        f"Round trip / library call (medians): {overhead:.1f}x.", "",
        ("| clients | seconds | requests | requests/s | p50 (ms) | p95 (ms) | errors | "
        "server RSS (MiB) |"), "|---:|---:|---:|---:|---:|---:|---:|---|", *load])
    print(report)
    if args.out:
        command = (f"`PYTHONPATH=src .venv/bin/python benchmarks/bench_studio.py --repeats "
                   f"{args.repeats} --keystrokes {args.keystrokes} --clients {args.clients} "
                   f"--seconds {args.seconds:g} --out {args.out}`")
        write_text(args.out, "\n\n".join([
            "# Studio: the Kernels endpoint, 512x512 RGB photo * sharpen 3x3",
            f"Machine: {machine()}.", f"Command: {command}.",
            (f"Measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}. The server is "
            f"`cnnlab studio` in its own process; clients (httpx, Chromium) run on the same "
            f"machine and share its cores. {args.repeats} timed calls after a warm-up for each "
            f"single-request row; {args.keystrokes} keystrokes."),
            *([args.note] if args.note else []), report]) + "\n")


if __name__ == "__main__":
    main()
